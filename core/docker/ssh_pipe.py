"""The output pipe of an ``ssh … docker system dial-stdio`` process, read as a socket would be.

docker-py hands http.client the process's own buffered stdout: http.client closes it after one response (so a
connection never carried a second request), and a terminal reading it waited for a full buffer (``read(n)`` blocks
until ``n`` bytes) while ``select`` looked at an unconnected socket. :class:`PipeReader` keeps a buffer of its own over
the pipe's descriptor: full reads for HTTP, a short read (``read1``) and ``pending``/``fileno`` for a terminal, and
a file per response whose ``close`` leaves the pipe open.
"""

from __future__ import annotations

import os
import threading
from typing import Any

CHUNK = 64 * 1024


class PipeReader:
    """Buffered reads of one pipe, shared by every response and stream of its connection."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buffer = bytearray()
        self._lock = threading.Lock()

    def fileno(self) -> int:
        return self.fd

    def pending(self) -> int:
        """Bytes read from the pipe and not yet taken (``select`` on the pipe does not see them)."""
        return len(self._buffer)

    def _fill(self) -> bool:
        """One read of the pipe into the buffer (blocking); False at the end."""
        chunk = os.read(self.fd, CHUNK)
        self._buffer += chunk
        return bool(chunk)

    def _take(self, size: int) -> bytes:
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def read(self, size: int | None = -1) -> bytes:
        """``size`` bytes, fewer only at the end (all of it up to the end for -1 or None)."""
        with self._lock:
            if size is None or size < 0:
                while self._fill():
                    pass
                return self._take(len(self._buffer))
            while len(self._buffer) < size and self._fill():
                pass
            return self._take(size)

    def read1(self, size: int = -1) -> bytes:
        """What is there, or one read of the pipe: a terminal's read."""
        with self._lock:
            if not self._buffer:
                self._fill()
            return self._take(len(self._buffer) if size < 0 else size)

    def readline(self, limit: int = -1) -> bytes:
        with self._lock:
            while True:
                end = self._buffer.find(b'\n')
                if end >= 0 and (limit < 0 or end < limit):
                    return self._take(end + 1)
                if 0 <= limit <= len(self._buffer):
                    return self._take(limit)
                if not self._fill():
                    return self._take(len(self._buffer))

    def readinto(self, target: Any) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def peek(self, size: int = 0) -> bytes:
        """What is buffered now, without reading the pipe (never blocks)."""
        return bytes(self._buffer)


class ResponseFile:
    """The file one HTTP response is read from: closing it ends that response, not the pipe (as closing
    ``socket.makefile``'s file leaves the socket open). ``channel`` is the socket docker-py takes for a hijacked
    stream (exec, attach)."""

    def __init__(self, reader: PipeReader, channel: Any) -> None:
        self.reader = reader
        self.channel = channel
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def flush(self) -> None:
        pass

    def readable(self) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.reader, name)
