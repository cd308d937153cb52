"""Reading one container's log stream from the daemon: stdout and stderr apart, timestamps parsed, off the loop.

The daemon sends a non-TTY container's log as multiplexed frames (8-byte header: stream type, length) inside an
HTTP chunked body, one chunk per message. docker-py's ``api.logs`` drops the stream type, so this module reads the
same endpoint itself and decodes chunks and frames in bulk from the connection's buffer (one pass per read, not
one call per message); streams it cannot read that way fall back to ``iter_content``.
"""

from __future__ import annotations

import contextlib
import heapq
import io
import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import docker
import requests
from docker.types.daemon import CancellableStream

from core.docker.endpoints import Endpoint
from core.docker.raw import get_stream
from core.streams.engine_gone import is_engine_gone
from core.streams.log_decode import (
    MARKER,
    Dechunker,
    Decoder,
    LogLine,
    advance,
    since_parameter,
    skip_seen,
    timestamp_key,
)

READ_SIZE = 256 * 1024
CATCH_UP = 10_000  # at most this many lines are read back when (re)joining a log: more are dropped from view anyway
GAP = f'— more than {CATCH_UP:,} lines were printed meanwhile: the older ones are not shown; download the whole log —'


@dataclass(kw_only=True, slots=True, frozen=True)
class ReaderStart:
    """Where a reader starts: the last ``tail`` lines (None: all), lines since ``since`` (epoch seconds), or lines
    from ``since_timestamp`` on, skipping the first ``skip`` lines that carry exactly that timestamp (seen before)."""

    tail: int | None = None
    since: float | None = None
    since_timestamp: str = ''
    skip: int = 0


Push = Callable[['LogReader', list[LogLine], str, int, bool], bool]


class LogReader(threading.Thread):
    """One run of a container: its recent lines, then live ones until the run ends; ``push`` gets every batch."""

    def __init__(
        self,
        *,
        endpoint: Endpoint,
        container_id: str,
        name: str,
        start: ReaderStart,
        push: Push,
        ended: Callable[[LogReader, BaseException | None], None],
        api_version: str | None = None,
        history_first: bool = False,
    ) -> None:
        super().__init__(name=f'berth-logs-{name}', daemon=True)
        self.container_name = name
        self.endpoint = endpoint
        self.api_version = api_version  # known: no version request; learned here otherwise, for the next reader
        self.history_first = history_first
        self.container_id = container_id
        self.start_at = start
        self._push = push
        self._ended = ended
        self.stopped = False  # set under the follower's lock; the reader then pushes nothing more
        self.history_done = False
        self.last_timestamp = ''
        self.same_count = 0
        self.position = ('', 0)  # the reader's own: last timestamp read and how many lines carried it
        self._response_lock = threading.Lock()
        self._response: requests.Response | None = None
        self._closed = False

    def close(self) -> None:
        """Ends the stream from any thread: the blocked read returns at once and the thread ends."""
        with self._response_lock:
            self._closed = True
            response = self._response
        if response is not None:
            close_response(response)

    def run(self) -> None:
        error: BaseException | None = None
        client: docker.APIClient | None = None
        try:
            client = api_client(self.endpoint, self.api_version)
            self.api_version = client.api_version
            start = self.start_at
            self.position = (start.since_timestamp, start.skip)
            # after a stop or restart: what came after the last line seen, read back from the end of the log (a
            # ``since`` alone makes the daemon scan the whole log file from its beginning)
            tail, since = (CATCH_UP, None) if start.since_timestamp else (start.tail, start.since)
            if self.history_first:  # merged views: every container's history first, to be merged in time order
                if not self._relay(client, follow=False, tail=1 if tail == 0 else tail, since=since, show=tail != 0):
                    return
                tail, since = CATCH_UP, None if self.position[0] else since
            if self._push(self, [], *self.position, True):
                self._relay(client, follow=True, tail=tail, since=since)
        except Exception as exception:  # daemon away, container gone, socket closed: the follower says which
            error = None if self._closed else exception
        finally:
            if error is None and client is not None and not self._closed:
                error = _engine_gone(client)  # the follow also ends when the daemon dies: not a stopped container
            if client is not None:
                client.close()
            self._ended(self, error)

    def _relay(
        self, client: docker.APIClient, *, follow: bool, tail: int | None, since: float | None, show: bool = True
    ) -> bool:
        """Reads one response and pushes its new lines; False when the follower stopped this reader.

        With a position, only lines after it come through (``since`` its timestamp, the lines seen there skipped).
        If the daemon's ``tail`` window does not reach back to that line, more were printed than it holds: a marker
        says so.
        """
        last, same = self.position
        skip = same if last else 0
        first = True
        for batch in self._read(client, follow=follow, tail=tail, since=since_parameter(last) if last else since):
            lines = batch
            gap = first and skip > 0 and timestamp_key(batch[0].timestamp) > timestamp_key(last)
            first = False
            if gap:
                skip = 0
            elif skip:
                lines, skip = skip_seen(batch, last, skip)
            last, same = advance(lines, last, same)
            self.position = (last, same)
            if gap:
                lines = [LogLine(self.container_name, MARKER, lines[0].timestamp, GAP), *lines]
            if (lines or not show) and not self._push(self, lines if show else [], last, same, False):
                return False
        return True

    def _read(
        self, client: docker.APIClient, *, follow: bool, tail: int | None, since: float | str | None
    ) -> Iterator[list[LogLine]]:
        response = open_logs(client, self.container_id, follow=follow, tail=tail, since=since)
        with self._response_lock:
            if self._closed:
                close_response(response)
                return
            self._response = response
        try:
            yield from read_lines(response, self.container_name)
        finally:
            with self._response_lock:
                self._response = None
            close_response(response)


def api_client(endpoint: Endpoint, version: str | None = None) -> docker.APIClient:
    """A low-level client that holds one connection per stream: no version request when ``version`` is known.

    (Each docker-py request path gets its own pooled keep-alive connection, so the version probe is closed at once
    and the container's TTY flag is read from the stream itself rather than from an inspect.)
    """
    if version is None:
        probe = endpoint.connect(timeout=10)
        try:
            version = str(probe.api.api_version)
        finally:
            probe.close()
    return endpoint.connect(timeout=30, version=version).api


def open_logs(
    api: docker.APIClient, container_id: str, *, follow: bool, tail: int | None, since: float | str | None
) -> requests.Response:
    """The daemon's ``/containers/{id}/logs`` response, both streams, with timestamps, unread."""
    params: dict[str, Any] = {
        'stdout': 1,
        'stderr': 1,
        'timestamps': 1,
        'follow': int(follow),
        'tail': 'all' if tail is None else tail,
    }
    if since:
        params['since'] = since
    # a quiet container must not make the read time out; stopping closes the socket instead
    return get_stream(api, '/containers/{0}/logs', container_id, params=params)


def close_response(response: requests.Response) -> None:
    """Shuts the socket down (wakes a blocked reader in another thread), then closes it."""
    with contextlib.suppress(Exception):  # already closed, or no socket to shut down: closing the response will do
        CancellableStream(iter(()), response).close()
    response.close()


def read_lines(response: requests.Response, container: str) -> Iterator[list[LogLine]]:
    """Batches of lines as the body arrives: one batch per read, until the daemon ends the body."""
    decoder = Decoder(container)
    for data in _body(response):
        lines = decoder.feed(data)
        if lines:
            yield lines
    lines = decoder.finish()
    if lines:
        yield lines


def _body(response: requests.Response) -> Iterator[bytes]:
    http_response = getattr(response.raw, '_fp', None)
    buffer = getattr(http_response, 'fp', None)
    if not isinstance(buffer, io.BufferedReader):
        yield from response.iter_content(chunk_size=None)
        return
    dechunker = Dechunker() if getattr(http_response, 'chunked', False) else None
    while True:
        data = buffer.read1(READ_SIZE)
        if not data:
            return
        if dechunker is None:
            yield data
            continue
        body = dechunker.feed(data)
        if body:
            yield body
        if dechunker.done:
            return


def whole_log(endpoint: Endpoint, containers: list[tuple[str, str]]) -> Iterator[LogLine]:
    """Every line of each ``(container_id, name)`` log, merged in time order; blocking, for downloads in a thread."""
    client = api_client(endpoint)
    responses: list[requests.Response] = []
    try:
        streams: list[Iterator[LogLine]] = []
        for container_id, name in containers:
            responses.append(open_logs(client, container_id, follow=False, tail=None, since=None))
            streams.append(itertools.chain.from_iterable(read_lines(responses[-1], name)))
        yield from heapq.merge(*streams, key=lambda line: timestamp_key(line.timestamp))
    finally:
        for response in responses:
            close_response(response)
        client.close()


def _engine_gone(client: docker.APIClient) -> BaseException | None:
    """The error that says the engine cannot be reached, else None (the stream ended because the container did)."""
    try:
        client.ping()
    except Exception as error:
        return error if is_engine_gone(error) else None
    return None
