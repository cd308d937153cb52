"""How many interactive streams (terminals, log views) one user may hold open at once, per kind of stream.

A stream takes a slot when it opens and gives it back when it closes; a user at the limit is refused with a
sentence instead of being allowed to grow the panel's memory without bound.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


class QuotaExceeded(Exception):
    """The user already holds the most streams of this kind; the message is a sentence for them."""


@dataclass(kw_only=True, slots=True)
class StreamSlot:
    """One held slot; :meth:`release` gives it back (once, however often it is called)."""

    quota: StreamQuota
    username: str
    released: bool = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.quota._give_back(self.username)


@dataclass(kw_only=True)
class StreamQuota:
    """At most ``limit`` open streams of one ``kind`` ('terminals', 'log views') per user."""

    kind: str
    limit: int
    _held: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, username: str) -> StreamSlot:
        """A slot for ``username``; raises :class:`QuotaExceeded` when they hold ``limit`` already."""
        with self._lock:
            if self._held[username] >= self.limit:
                raise QuotaExceeded(
                    f'{username} has {self._held[username]} {self.kind} open already, the most '
                    f'one person may have: close one first'
                )
            self._held[username] += 1
        return StreamSlot(quota=self, username=username)

    def held(self, username: str) -> int:
        with self._lock:
            return self._held[username]

    def _give_back(self, username: str) -> None:
        with self._lock:
            self._held[username] -= 1
            if self._held[username] <= 0:
                del self._held[username]
