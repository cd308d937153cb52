"""Is an engine still answering while its event stream is quiet? A stream on a connection whose far end went silent
(a cut network, a stalled proxy, a hung daemon) waits forever: no event, no error. While a watcher reads events, its
:class:`Liveness` pings the engine on a connection of its own every few seconds; after ``misses`` pings in a row
without an answer in time it calls ``on_silent`` with a sentence (the watcher then closes the stream, marks the engine
unreachable and reconnects). The event connection also gets TCP keepalive (core/docker/raw.py ``keep_alive``), which
ends the read when the peer's machine is gone, though not when a middlebox in between still answers for it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from core.docker.client import describe_error
from core.docker.endpoints import Endpoint

log = logging.getLogger(__name__)


class EngineSilent(Exception):
    """The engine stopped answering while its stream was open; ``str()`` is a sentence."""


class Liveness:
    def __init__(
        self,
        endpoint: Endpoint,
        on_silent: Callable[[str], None],
        *,
        every: float = 5.0,
        timeout: float = 5.0,
        misses: int = 2,
        version: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.on_silent = on_silent
        self.every = every
        self.timeout = timeout
        self.misses = misses
        self.version = version  # the engine's API version, known from the watcher: no version request per client
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f'berth-liveness-{endpoint.id}', daemon=True)

    def start(self) -> Liveness:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        missed = 0
        client = None
        try:
            while not self._stop.wait(self.every):
                try:
                    if client is None:
                        client = self.endpoint.connect(timeout=max(1, round(self.timeout)), version=self.version)
                    client.api.ping()
                    missed = 0
                except Exception as error:  # no answer in time, refused, reset: one miss
                    missed += 1
                    reason = describe_error(error)
                    if client is not None:
                        client.close()
                        client = None
                    if missed >= self.misses and not self._stop.is_set():
                        log.warning('engine %s silent: %s', self.endpoint.id, reason)
                        self.on_silent(f'no answer to {missed} pings in a row ({reason})')
                        return
        finally:
            if client is not None:
                client.close()
