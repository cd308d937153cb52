"""One :class:`~core.state.model.EventWatcher` per endpoint, each in its own thread with its own connection and
timeouts, so an unreachable engine never blocks nor slows the others; an endpoint added, changed or removed in the
panel gets its watcher started, restarted or stopped (and its rows forgotten)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from core.docker.endpoints import Endpoints
from core.handover import hand_over
from core.state.model import DockerState, EventWatcher


class Watchers:
    def __init__(self, state: DockerState, endpoints: Endpoints, *, retry_seconds: float = 1.0) -> None:
        self.state = state
        self.endpoints = endpoints
        self._retry_seconds = retry_seconds
        # how often each watcher pings its engine while reading events, and how long an answer may take (tests
        # make them short): a silent engine is shown unreachable after two missed pings
        self.ping_seconds = 5.0
        self.ping_timeout = 5.0
        self._watchers: dict[str, EventWatcher] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def retry_seconds(self) -> float:
        return self._retry_seconds

    @retry_seconds.setter
    def retry_seconds(self, seconds: float) -> None:
        """How long a watcher waits before it tries an unreachable engine again (tests make it short)."""
        self._retry_seconds = seconds
        for watcher in self._watchers.values():
            watcher.retry_seconds = seconds

    def __getitem__(self, endpoint_id: str) -> EventWatcher:
        return self._watchers[endpoint_id]

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        for endpoint in self.endpoints:
            self.state.host(endpoint.id)  # listed (as connecting) before its watcher's first answer
            self._start(endpoint.id)
        self._unsubscribe = self.endpoints.subscribe(lambda endpoint_id: hand_over(loop, self._changed, endpoint_id))

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        for watcher in self._watchers.values():
            watcher.stop()
        self._watchers.clear()

    def _start(self, endpoint_id: str) -> None:
        assert self._loop is not None
        watcher = EventWatcher(
            self.state,
            self.endpoints.get(endpoint_id),
            retry_seconds=self._retry_seconds,
            ping_seconds=self.ping_seconds,
            ping_timeout=self.ping_timeout,
        )
        self._watchers[endpoint_id] = watcher
        watcher.start(self._loop)

    def _changed(self, endpoint_id: str) -> None:
        """On the loop: the endpoint was added, changed or removed."""
        old = self._watchers.pop(endpoint_id, None)
        if old is not None:
            old.stop()
        if endpoint_id in self.endpoints:
            self.state.host(endpoint_id)
            self._start(endpoint_id)
        else:
            self.state.forget(endpoint_id)
