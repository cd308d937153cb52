"""Failed sign-ins are limited per (username, client address) and per client address (sliding window, in memory).

Nothing counts per username alone: failures from one address must never lock the account's owner out of signing in
with the right password from another address that has not failed.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque

PRUNE_ABOVE = 10_000  # tracked keys before stale ones are dropped: bounds memory under a spray of addresses


class LoginRateLimit:
    def __init__(self, *, per_user_and_address: int = 5, per_address: int = 20, window_seconds: float = 300) -> None:
        self.per_user_and_address = per_user_and_address
        self.per_address = per_address
        self.window_seconds = window_seconds
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def retry_after(self, username: str, address: str) -> float:
        """Seconds until another attempt for ``username`` from ``address`` is allowed; 0 when allowed now."""
        return max(
            self._wait(_pair(username, address), self.per_user_and_address), self._wait(('', address), self.per_address)
        )

    def failed(self, username: str, address: str) -> None:
        now = time.monotonic()
        if len(self._failures) > PRUNE_ABOVE:
            self._prune(now)
        self._failures[_pair(username, address)].append(now)
        self._failures[('', address)].append(now)

    def succeeded(self, username: str, address: str) -> None:
        self._failures.pop(_pair(username, address), None)

    def _wait(self, key: tuple[str, str], limit: int) -> float:
        failures = self._failures.get(key)
        if not failures:
            return 0.0
        now = time.monotonic()
        while failures and now - failures[0] > self.window_seconds:
            failures.popleft()
        if len(failures) < limit:
            return 0.0
        return self.window_seconds - (now - failures[0])

    def _prune(self, now: float) -> None:
        for key, failures in list(self._failures.items()):
            if not failures or now - failures[-1] > self.window_seconds:
                del self._failures[key]


def _pair(username: str, address: str) -> tuple[str, str]:
    return f'user:{username.lower()}', address
