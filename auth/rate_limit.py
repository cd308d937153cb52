"""Failed sign-ins are limited per username and per client address (sliding window, in memory)."""
from __future__ import annotations

import time
from collections import defaultdict, deque


class LoginRateLimit:
    def __init__(self, *, per_user: int = 5, per_address: int = 20, window_seconds: float = 300) -> None:
        self.per_user = per_user
        self.per_address = per_address
        self.window_seconds = window_seconds
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def retry_after(self, username: str, address: str) -> float:
        """Seconds until another attempt is allowed; 0 when allowed now."""
        waits = [self._wait(f'user:{username.lower()}', self.per_user),
                 self._wait(f'address:{address}', self.per_address)]
        return max(waits)

    def failed(self, username: str, address: str) -> None:
        now = time.monotonic()
        self._failures[f'user:{username.lower()}'].append(now)
        self._failures[f'address:{address}'].append(now)

    def succeeded(self, username: str) -> None:
        self._failures.pop(f'user:{username.lower()}', None)

    def _wait(self, key: str, limit: int) -> float:
        failures = self._failures.get(key)
        if not failures:
            return 0.0
        now = time.monotonic()
        while failures and now - failures[0] > self.window_seconds:
            failures.popleft()
        if len(failures) < limit:
            return 0.0
        return self.window_seconds - (now - failures[0])
