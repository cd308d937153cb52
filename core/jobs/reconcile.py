"""Keeping the job centre right about jobs that other processes run (``dramatiq tasks`` workers on Redis).

Pub/sub says what happens only to whoever listens: while the panel is cut off from Redis, or stopped, it hears nothing.
So on every (re)connection the panel reads the ledger (:mod:`core.jobs.ledger`) for its active jobs and takes what
the workers said meanwhile; silence while it could not listen does not count against a job. A running job is called
lost only when the ledger, too, has not heard from its worker for ``lost_after`` seconds; a job the panel had queued
before it stopped, that no worker took and whose message is not on the queue, never reached it and ends with a
sentence. Embedded (no Redis), the worker threads are the panel's own: only the silence counts.
"""

from __future__ import annotations

import asyncio
import logging
import time

import redis

from core.jobs.bus import Bus
from core.jobs.queue_status import QueueStatus
from core.jobs.store import ACTIVE, FINISHED, JobStatus, JobStore, JobUpdate

log = logging.getLogger(__name__)

LOST = 'lost contact with the worker while the job was running (worker stopped?)'
NEVER_QUEUED = 'the panel stopped before the job reached the job queue; it did not run'


class JobReconciler:
    """Runs on the event loop; reads Redis in a thread."""

    def __init__(self, store: JobStore, bus: Bus) -> None:
        self.store = store
        self.bus = bus
        self._from_before = {job.job_id for job in store.active()}  # active when the panel started
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Reconciles on every (re)connection of the bus, the first one included."""
        self.bus.status.subscribe(self._on_status)

    async def check_lost(self, now: float | None = None) -> None:
        """Fails running jobs whose worker has been silent for ``lost_after`` (ledger included); nothing while the panel
        cannot hear the workers at all."""
        if not self.bus.status.reachable:
            return
        silent = {update.job_id: update for update in self.store.mark_lost(now)}
        if silent and self.bus.ledger is not None:
            try:
                entries = await asyncio.to_thread(self.bus.ledger.read, list(silent))
            except redis.RedisError:
                return  # the status says so in a moment; nothing is decided on a Redis that does not answer
            now = now or time.time()
            for job_id, entry in entries.items():
                self._take(job_id, entry.update, entry.seen)
                job = self.store.jobs.get(job_id)
                if job is None or job.status != JobStatus.RUNNING or now - job.last_seen <= self.store.lost_after:
                    silent.pop(job_id)
        for update in silent.values():
            job = self.store.jobs.get(update.job_id)
            if job is not None and job.status == JobStatus.RUNNING:
                self.store.apply(update)

    async def reconcile(self) -> None:
        """Takes the ledger's word for every active job; those queued before the panel started and that reached
        neither a worker nor the queue fail."""
        ledger = self.bus.ledger
        ids = [job.job_id for job in self.store.active()]
        if ledger is None or not ids:
            return
        try:
            entries = await asyncio.to_thread(ledger.read, ids)
            orphans = [job_id for job_id in ids if job_id in self._from_before and job_id not in entries]
            on_queue = await asyncio.to_thread(ledger.queued_job_ids) if orphans else set()
        except redis.RedisError as error:
            log.warning('could not read the job ledger (%s); trying again at the next connection', error)
            return
        for job_id, entry in entries.items():
            self._take(job_id, entry.update, entry.seen)
        for job_id in orphans:
            job = self.store.jobs.get(job_id)
            if job is not None and job.status == JobStatus.QUEUED and job_id not in on_queue:
                self.store.apply(job.failed(NEVER_QUEUED))
        self._from_before.clear()
        log.info('job centre reconciled with the job ledger: %d active jobs read', len(ids))

    def _on_status(self, status: QueueStatus) -> None:
        if not status.reachable:
            return
        now = time.time()
        for job in self.store.active():  # what could not be heard while the panel was away is no silence
            job.last_seen = max(job.last_seen, now)
        task = asyncio.get_running_loop().create_task(self.reconcile())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _take(self, job_id: str, update: JobUpdate | None, seen: float) -> None:
        job = self.store.jobs.get(job_id)
        if job is None or job.status not in ACTIVE:
            return
        job.last_seen = max(job.last_seen, seen)
        if update is None:
            return
        if update.status in FINISHED or (job.status == JobStatus.QUEUED and update.status != JobStatus.QUEUED):
            self.store.apply(update)
