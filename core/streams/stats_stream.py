"""Reading one container's stats stream from the daemon in a thread (flow 3); :mod:`core.streams.stats_hub` shares it.

The daemon sends a frame about every second for as long as the stream is open, also while the container is stopped
(empty frames, which are skipped here) and until the container is removed (the body ends). Each frame is reduced to a
:class:`StatsSample` in the reader's thread; the reader hands samples on and can be closed from any thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import docker
import requests

from core.docker.endpoints import Endpoint
from core.docker.raw import decoded_messages, get_stream
from core.streams.log_reader import close_response
from core.streams.stats_frame import Rates, StatsFrame, rates

NO_RATES = Rates(net_rx=0.0, net_tx=0.0, block_read=0.0, block_write=0.0)


@dataclass(kw_only=True, slots=True, frozen=True)
class StatsSample:
    """One frame's figures, and the per-second I/O since the frame before it in the same stream (zero for the first)."""

    frame: StatsFrame
    rates: Rates


class StatsStream(Protocol):
    """An open stats stream: its decoded frames, in order, until it ends; ``close`` ends it from any thread."""

    def frames(self) -> Iterator[dict[str, Any]]: ...

    def close(self) -> None: ...


OpenStats = Callable[[Endpoint, str], StatsStream]
"""Opens the stats stream of a container (endpoint, container id); blocking, called in the reader's thread."""


class DaemonStatsStream:
    """``GET /containers/{id}/stats?stream=1`` on a client (and so a connection) of its own."""

    def __init__(self, endpoint: Endpoint, container_id: str) -> None:
        self._client = endpoint.connect(timeout=30)
        self._response: requests.Response | None = None
        try:
            api: docker.APIClient = self._client.api
            self._response = get_stream(api, '/containers/{0}/stats', container_id, params={'stream': 1})
        except BaseException:
            self._client.close()
            raise

    def frames(self) -> Iterator[dict[str, Any]]:
        assert self._response is not None
        yield from decoded_messages(self._client.api, self._response)

    def close(self) -> None:
        """Shuts the connection down: a read blocked in another thread returns at once."""
        if self._response is not None:
            close_response(self._response)
        self._client.close()


def open_daemon_stats(endpoint: Endpoint, container_id: str) -> StatsStream:
    """The default :data:`OpenStats`: the daemon's own stream."""
    return DaemonStatsStream(endpoint, container_id)


class StatsReader(threading.Thread):
    """Reads one container's stream until it ends or is closed; ``push`` gets each sample (False: stop reading),
    ``ended`` the error it ended with (None for an end of stream or a close)."""

    def __init__(
        self,
        *,
        open_stream: OpenStats,
        endpoint: Endpoint,
        container_id: str,
        push: Callable[[StatsReader, StatsSample], bool],
        ended: Callable[[StatsReader, BaseException | None], None],
    ) -> None:
        super().__init__(name=f'berth-stats-{container_id[:12]}', daemon=True)
        self.endpoint = endpoint
        self.container_id = container_id
        self._open_stream = open_stream
        self._push = push
        self._ended = ended
        self._lock = threading.Lock()
        self._stream: StatsStream | None = None
        self.closed = False

    def close(self) -> None:
        """Ends the stream from any thread (also before it has opened: it is closed as soon as it opens)."""
        with self._lock:
            self.closed = True
            stream = self._stream
        if stream is not None:
            stream.close()

    def run(self) -> None:
        error: BaseException | None = None
        stream: StatsStream | None = None
        try:
            stream = self._open_stream(self.endpoint, self.container_id)
            with self._lock:
                if self.closed:
                    return
                self._stream = stream
            previous: StatsFrame | None = None
            for data in stream.frames():
                frame = StatsFrame.from_api(data)
                if frame.read_at == 0:  # the container is not running: an empty frame
                    previous = None
                    continue
                sample = StatsSample(frame=frame, rates=rates(previous, frame) if previous is not None else NO_RATES)
                previous = frame
                if not self._push(self, sample):
                    return
        except Exception as exception:  # engine away, container gone, closed from outside: the hub says which
            error = None if self.closed else exception
        finally:
            if stream is not None:
                stream.close()
            self._ended(self, error)
