"""Whether the panel hears the job queue (Redis): the bus sets it on the event loop, the banner and the reconciliation
(:mod:`core.jobs.reconcile`) listen."""

from __future__ import annotations

import time
from collections.abc import Callable

UNREACHABLE = (
    'The job queue (Redis) cannot be reached: new jobs cannot be queued, and running jobs report back once it '
    'answers again. Retrying every second.'
)

StatusListener = Callable[['QueueStatus'], None]


class QueueStatus:
    """``reachable`` with a sentence when it is not; listeners run on every change and on every (re)connection."""

    def __init__(self) -> None:
        self.reachable = True
        self.message = ''
        self.since = time.time()
        self.connections = 0  # how many times the subscription was made (1 after the first start)
        self._listeners: list[StatusListener] = []

    def subscribe(self, listener: StatusListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def connected(self) -> None:
        """The subscription is (again) in place: what was said while it was not must be read back now."""
        self.connections += 1
        if not self.reachable:
            self.since = time.time()
        self.reachable, self.message = True, ''
        self._notify()

    def lost(self) -> None:
        """The subscription broke (the bus logs why: the banner names no address)."""
        if self.reachable:
            self.reachable, self.since, self.message = False, time.time(), UNREACHABLE
            self._notify()

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener(self)
