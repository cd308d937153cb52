"""Shaping a terminal's output: bytes to text across reads, and reads into few, large writes."""

from __future__ import annotations

import codecs
import math
import time
from collections.abc import Callable


class OutputDecoder:
    """UTF-8 across reads: a character split between two reads waits for its last byte; invalid bytes become U+FFFD."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder('utf-8')(errors='replace')

    def decode(self, data: bytes, *, final: bool = False) -> str:
        return str(self._decoder.decode(data, final))


class Coalescer:
    """Gathers text into few, large writes.

    Interactive output (a small piece after a small piece, or anything after a quiet spell) goes out at once, so typing
    stays instant. Under a stream, at most one write per ``interval`` seconds, or sooner once ``limit`` characters
    wait: the browser then parses and renders big batches instead of one frame per small piece.
    """

    def __init__(
        self,
        *,
        interval: float = 0.04,
        limit: int = 512 * 1024,
        small: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.limit = limit
        self.small = small
        self.clock = clock
        self.size = 0
        self._parts: list[str] = []
        self._last_take = -math.inf
        self._last_size = 0

    def add(self, text: str) -> None:
        if text:
            self._parts.append(text)
            self.size += len(text)

    def wait(self) -> float:
        """Seconds the reader may still wait for more before it must hand over what it has (0: now)."""
        if self.size >= self.limit or (self._last_size < self.small and self.size < self.small):
            return 0.0
        return max(0.0, self._last_take + self.interval - self.clock())

    def take(self) -> str:
        """Everything gathered so far, as one string ('' when there is nothing)."""
        text = ''.join(self._parts)
        self._parts, self.size = [], 0
        if text:
            self._last_take, self._last_size = self.clock(), len(text)
        return text
