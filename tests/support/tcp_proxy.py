"""A TCP proxy on a port of its own in front of a real service (Redis, PostgreSQL) that a test can cut and restore:
'the server went away' without stopping the server everyone else uses."""

from __future__ import annotations

import socket
import threading

from . import free_port


class TcpProxy:
    """Listens on 127.0.0.1:``port`` and relays every connection to ``target``; :meth:`cut` closes the listener and
    every connection (new ones are refused), :meth:`start` listens again on the same port. :meth:`stall` stops
    forwarding while every connection stays open and new ones are still accepted (a network that silently drops
    everything: no reset, no close), :meth:`resume` lets what waits through."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._flowing.set()

    def start(self) -> TcpProxy:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(('127.0.0.1', self.port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), name='tcp-proxy', daemon=True).start()
        return self

    def cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            _shut(server)  # wakes the accepting thread; close alone would leave the port listening until it returns
            server.close()
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            _shut(connection)
            connection.close()

    def stall(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections += [client, upstream]
            threading.Thread(target=_pipe, args=(client, upstream, self._flowing), daemon=True).start()
            threading.Thread(target=_pipe, args=(upstream, client, self._flowing), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket, flowing: threading.Event) -> None:
    try:
        while data := source.recv(65536):
            flowing.wait()  # stalled: the bytes wait here, and nothing more is read
            sink.sendall(data)
    except OSError:
        pass
    finally:
        _shut(source)
        _shut(sink)


def _shut(side: socket.socket) -> None:
    try:
        side.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
