"""A unix socket in front of the Docker socket that counts the connections open through it right now, and every
request that went through it.

Point a client (or a whole panel, via DOCKER_HOST) at it and the count is exact: the rest of a process opens and
closes Docker connections of its own (docker-py keeps one keep-alive pool per request path), so counting the
process's sockets would not be.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from pathlib import Path

# the start of an HTTP/1.x request: docker-py sends each request's head in one write, so it starts a chunk
REQUEST_LINE = re.compile(rb'^(GET|POST|PUT|DELETE|HEAD) (\S+) HTTP/1\.[01]\r\n')


class CountingProxy:
    """Counts open connections (``live``) and every one opened (``opened``); with ``only``, just those whose first
    request line contains it (e.g. '/logs?').

    ``requests`` lists every request made through it (on any connection, kept alive or not): (``time.monotonic()``,
    'GET /v1.41/containers/…/stats?stream=0')."""

    def __init__(self, path: Path, *, only: str = '', target: str = '/var/run/docker.sock') -> None:
        self.url = f'unix://{path}'
        self.only = only.encode()
        self.target = target
        self.live = 0
        self.opened = 0
        self.requests: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._server.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.target)
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()
            threading.Thread(target=self._requests, args=(client, upstream), daemon=True).start()

    def _requests(self, client: socket.socket, upstream: socket.socket) -> None:
        counted = False
        with contextlib.suppress(OSError):
            first = client.recv(1 << 16)
            counted = bool(first) and self.only in first.split(b'\r\n', 1)[0]
            if counted:
                with self._lock:
                    self.live += 1
                    self.opened += 1
            if first:
                self._count(first)
                upstream.sendall(first)
                self._pipe(client, upstream, count=True)
        self._shut(client, upstream)
        client.close()
        if counted:
            with self._lock:
                self.live -= 1

    def requests_between(self, start: float, end: float) -> list[str]:
        """The requests made between two ``time.monotonic()`` readings."""
        with self._lock:
            return [request for at, request in self.requests if start <= at < end]

    def _count(self, data: bytes) -> None:
        match = REQUEST_LINE.match(data)
        if match is not None:
            with self._lock:
                self.requests.append((time.monotonic(), f'{match[1].decode()} {match[2].decode(errors="replace")}'))

    def _pipe(self, source: socket.socket, sink: socket.socket, *, count: bool = False) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(1 << 16):
                if count:
                    self._count(data)
                sink.sendall(data)
        self._shut(source, sink)

    @staticmethod
    def _shut(*sides: socket.socket) -> None:
        for side in sides:
            with contextlib.suppress(OSError):
                side.shutdown(socket.SHUT_RDWR)
