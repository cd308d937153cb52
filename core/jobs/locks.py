"""Locks the workers share, by name: held while a worker checks a quota against the engine and acts on it, so that two
jobs at once (in threads of one worker, or in several workers) never both pass the check before either acted.

In-process for the embedded worker (its threads are the only ones that run actors); a Redis lock (``SET NX`` with an
expiry, released only by its holder) with ``REDIS_URL``, where every worker shares the Redis. A holder that dies
keeps the lock until it expires.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import redis

KEY_PREFIX = 'berth:lock:'
HOLD_SECONDS = 120.0  # a holder that died frees the lock after this (a quota check and a create take seconds)
WAIT_SECONDS = 60.0  # how long a job waits for the lock before it fails with a sentence


class LockBusy(Exception):
    """The lock stayed taken; the message is a sentence."""


class Locks:
    """Named locks for the threads of one process."""

    kind = 'embedded'

    def __init__(self, *, wait_seconds: float = WAIT_SECONDS) -> None:
        self.wait_seconds = wait_seconds
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @contextlib.contextmanager
    def hold(self, name: str, what: str, *, seconds: float | None = None) -> Iterator[None]:
        """Holds the lock ``name`` for the block; raises :class:`LockBusy` naming ``what`` when it stays taken.
        ``seconds``: how long a dead holder keeps it (shared locks only; a deploy holds its stack's for minutes)."""
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        if not lock.acquire(timeout=self.wait_seconds):
            raise LockBusy(busy(what, self.wait_seconds))
        try:
            yield
        finally:
            lock.release()


class RedisLocks(Locks):
    """One Redis key per lock, shared by every worker; it expires after ``hold_seconds`` if its holder died."""

    kind = 'redis'

    def __init__(self, url: str, *, wait_seconds: float = WAIT_SECONDS, hold_seconds: float = HOLD_SECONDS) -> None:
        super().__init__(wait_seconds=wait_seconds)
        self.hold_seconds = hold_seconds
        self._redis = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)

    @contextlib.contextmanager
    def hold(self, name: str, what: str, *, seconds: float | None = None) -> Iterator[None]:
        lock = self._redis.lock(
            f'{KEY_PREFIX}{name}', timeout=seconds or self.hold_seconds, blocking_timeout=self.wait_seconds, sleep=0.05
        )
        if not lock.acquire():
            raise LockBusy(busy(what, self.wait_seconds))
        try:
            yield
        finally:
            with contextlib.suppress(redis.exceptions.LockError):  # expired meanwhile: nothing of ours to release
                lock.release()


def busy(what: str, seconds: float) -> str:
    return f'{what} stayed busy for {seconds:g} seconds (another job holds it): try again'


def make_locks(redis_url: str | None) -> Locks:
    return RedisLocks(redis_url) if redis_url else Locks()
