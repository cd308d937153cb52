"""Job updates a worker could not hand to Redis yet: kept in order and written once Redis answers again.

A job that runs on while Redis restarts must still be heard of: its updates (above all how it ended) wait here and go
out in the order they were made, the job's entry in the ledger (:mod:`core.jobs.ledger`) with them, so a panel that
reconnects reads the truth even if it was not listening when they went out.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

import redis

from core.jobs.store import FINISHED, JobStatus, JobUpdate

log = logging.getLogger(__name__)

LIMIT = 10_000  # updates kept at most; beyond it, heartbeats and progress go first, how a job ended goes last


class Outbox:
    """Sends each update through ``write`` (which raises ``redis.RedisError`` when Redis is away); what it could not
    send waits, in order, and a thread retries every ``retry_seconds`` until everything went out."""

    def __init__(self, write: Callable[[JobUpdate], None], *, retry_seconds: float = 1.0, limit: int = LIMIT) -> None:
        self._write = write
        self.retry_seconds = retry_seconds
        self.limit = limit
        self._waiting: deque[JobUpdate] = deque()
        self._lock = threading.Lock()
        self._flusher: threading.Thread | None = None
        self.dropped = 0

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._waiting)

    def send(self, update: JobUpdate) -> None:
        """Writes ``update`` now, or after those still waiting (never before them)."""
        with self._lock:
            if not self._waiting:
                try:
                    self._write(update)
                    return
                except redis.RedisError as error:
                    log.warning('job updates wait for Redis (%s); job %s goes on', error, update.job_id)
            self._keep(update)
            if self._flusher is None or not self._flusher.is_alive():
                self._flusher = threading.Thread(target=self._flush, name='berth-outbox', daemon=True)
                self._flusher.start()

    def _keep(self, update: JobUpdate) -> None:
        last = self._waiting[-1] if self._waiting else None
        if last is not None and update.status == JobStatus.HEARTBEAT == last.status and last.job_id == update.job_id:
            self._waiting[-1] = update  # one "still alive" per job is enough
            return
        if len(self._waiting) >= self.limit:
            unimportant = next((kept for kept in self._waiting if kept.status not in FINISHED), None)
            if unimportant is None and update.status not in FINISHED:
                self.dropped += 1
                return
            self._waiting.remove(unimportant if unimportant is not None else self._waiting[0])
            self.dropped += 1
        self._waiting.append(update)

    def _flush(self) -> None:
        stop = threading.Event()
        while not stop.wait(self.retry_seconds):
            with self._lock:
                while self._waiting:
                    try:
                        self._write(self._waiting[0])
                    except redis.RedisError:
                        break
                    self._waiting.popleft()
                if not self._waiting:
                    self._flusher = None
                    if self.dropped:
                        log.warning('%d job updates were dropped while Redis was away', self.dropped)
                    log.info('job updates that waited for Redis went out')
                    return
