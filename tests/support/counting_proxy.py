"""A unix socket in front of the Docker socket that counts the connections open through it right now.

Point a client (or a whole panel, via DOCKER_HOST) at it and the count is exact: the rest of a process opens and
closes Docker connections of its own (docker-py keeps one keep-alive pool per request path), so counting the
process's sockets would not be.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path


class CountingProxy:
    """Counts open connections (``live``) and every one opened (``opened``); with ``only``, just those whose first
    request line contains it (e.g. '/logs?')."""

    def __init__(self, path: Path, *, only: str = '', target: str = '/var/run/docker.sock') -> None:
        self.url = f'unix://{path}'
        self.only = only.encode()
        self.target = target
        self.live = 0
        self.opened = 0
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
                upstream.sendall(first)
                self._pipe(client, upstream)
        self._shut(client, upstream)
        client.close()
        if counted:
            with self._lock:
                self.live -= 1

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(1 << 16):
                sink.sendall(data)
        self._shut(source, sink)

    @staticmethod
    def _shut(*sides: socket.socket) -> None:
        for side in sides:
            with contextlib.suppress(OSError):
                side.shutdown(socket.SHUT_RDWR)
