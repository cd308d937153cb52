"""Cancellation requests for running jobs: in-process for the embedded default, a Redis key with ``REDIS_URL``.

The panel asks (after the role check and the audit entry); the actor looks at the flag while it works.
"""

from __future__ import annotations

import contextlib
import threading

import redis

KEY_PREFIX = 'berth:cancel:'
KEEP_SECONDS = 24 * 3600


class CancelFlags:
    """Who asked to cancel which job. Safe to use from any thread or process of the same kind."""

    kind = 'base'

    def request(self, job_id: str, username: str) -> None:
        """Marks ``job_id`` as cancelled by ``username``."""
        raise NotImplementedError

    def requested_by(self, job_id: str) -> str:
        """The username who asked to cancel ``job_id``, or '' when nobody did."""
        raise NotImplementedError

    def clear(self, job_id: str) -> None:
        """Forgets the request once the job has ended."""
        raise NotImplementedError


class InProcessCancelFlags(CancelFlags):
    """The panel and its embedded worker threads share one dictionary."""

    kind = 'embedded'

    def __init__(self) -> None:
        self._requests: dict[str, str] = {}
        self._lock = threading.Lock()

    def request(self, job_id: str, username: str) -> None:
        with self._lock:
            self._requests[job_id] = username

    def requested_by(self, job_id: str) -> str:
        with self._lock:
            return self._requests.get(job_id, '')

    def clear(self, job_id: str) -> None:
        with self._lock:
            self._requests.pop(job_id, None)


class RedisCancelFlags(CancelFlags):
    """One key per request, expiring after a day, so workers on other machines see it."""

    kind = 'redis'

    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)

    def request(self, job_id: str, username: str) -> None:
        self._redis.set(f'{KEY_PREFIX}{job_id}', username or '?', ex=KEEP_SECONDS)

    def requested_by(self, job_id: str) -> str:
        try:
            value = self._redis.get(f'{KEY_PREFIX}{job_id}')
        except redis.RedisError:  # Redis away for a moment: the job goes on; the next look may see the request
            return ''
        return value.decode() if isinstance(value, bytes) else str(value or '')

    def clear(self, job_id: str) -> None:
        with contextlib.suppress(redis.RedisError):  # the key expires by itself
            self._redis.delete(f'{KEY_PREFIX}{job_id}')


def make_cancel_flags(redis_url: str | None) -> CancelFlags:
    return RedisCancelFlags(redis_url) if redis_url else InProcessCancelFlags()
