"""LineBuffer: the newest log lines, bounded by count AND by characters, counting what it had to drop.

A count alone does not bound memory: 5 000 lines of 16 KB are 80 MB. Views and followers keep their lines here.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from core.streams.log_decode import LogLine

VIEW_CHARS = 8 * 1024 * 1024  # characters of log text one view (or one follower's queue) holds at most


@dataclass(kw_only=True, slots=True)
class LineBuffer:
    """At most ``max_lines`` lines and ``max_chars`` characters of text; the oldest lines go first."""

    max_lines: int
    max_chars: int = VIEW_CHARS
    chars: int = 0
    _lines: deque[LogLine] = field(default_factory=deque)

    def extend(self, lines: Iterable[LogLine]) -> int:
        """Appends ``lines``; returns how many lines (old or new) were dropped to stay within the bounds."""
        kept = self._lines
        for line in lines:
            kept.append(line)
            self.chars += len(line.text)
        dropped = 0
        while kept and (len(kept) > self.max_lines or self.chars > self.max_chars):
            self.chars -= len(kept.popleft().text)
            dropped += 1
        return dropped

    def take(self) -> list[LogLine]:
        """Empties the buffer and returns what it held, oldest first."""
        lines = list(self._lines)
        self.clear()
        return lines

    def newest(self, count: int) -> list[LogLine]:
        """The last ``count`` lines, oldest first."""
        return list(itertools.islice(reversed(self._lines), max(0, count)))[::-1]

    def clear(self) -> None:
        self._lines.clear()
        self.chars = 0

    def __len__(self) -> int:
        return len(self._lines)

    def __iter__(self) -> Iterator[LogLine]:
        return iter(self._lines)

    def __bool__(self) -> bool:
        return bool(self._lines)
