"""The latest word on each job, kept in Redis next to the pub/sub message that carries it.

Pub/sub delivers to whoever listens at that moment: a panel that was cut off from Redis, or stopped, misses what
workers said meanwhile. So every update a worker publishes is also written to ``berth:job:<id>`` (a hash: ``update``,
the JSON of the latest update that says more than "still alive", and ``seen``, when the worker last spoke), kept as
long as a job signature is valid. A panel reads it back for its active jobs when it reconnects, when it starts, and
before it calls a silent job lost (:mod:`core.jobs.reconcile`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import redis

from core.jobs.seal import MAX_AGE_SECONDS
from core.jobs.store import JobStatus, JobUpdate

KEY_PREFIX = 'berth:job:'
CHANNEL = 'berth:jobs'
NAMESPACE = 'berth'  # the Dramatiq namespace (tasks/broker.py): its queues are berth:<queue> and berth:<queue>.msgs


@dataclass(kw_only=True, slots=True, frozen=True)
class LedgerEntry:
    """What the ledger says of one job: its latest update (None: only heartbeats so far) and when it was last seen."""

    update: JobUpdate | None
    seen: float


class JobLedger:
    """Writes (with the pub/sub message, in one round trip) and reads the latest update of each job."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def record(self, update: JobUpdate) -> None:
        """Keeps ``update`` as the job's latest word (a heartbeat only refreshes ``seen``) and publishes it. Raises
        ``redis.RedisError`` when Redis cannot be reached."""
        key = f'{KEY_PREFIX}{update.job_id}'
        pipeline = self._redis.pipeline(transaction=True)
        pipeline.hset(key, 'seen', repr(update.at))
        if update.status != JobStatus.HEARTBEAT:
            pipeline.hset(key, 'update', update.to_json())
        pipeline.expire(key, MAX_AGE_SECONDS)
        pipeline.publish(CHANNEL, update.to_json())
        pipeline.execute()

    def read(self, job_ids: Iterable[str]) -> dict[str, LedgerEntry]:
        """The entries of those jobs the ledger knows. Raises ``redis.RedisError`` when Redis cannot be reached."""
        ids = list(job_ids)
        pipeline = self._redis.pipeline(transaction=False)
        for job_id in ids:
            pipeline.hgetall(f'{KEY_PREFIX}{job_id}')
        entries = {}
        for job_id, fields in zip(ids, pipeline.execute(), strict=True):
            if not fields:
                continue
            text = fields.get(b'update')
            try:
                update = JobUpdate.from_json(text) if text else None
                seen = float(fields.get(b'seen') or 0)
            except (ValueError, TypeError):
                continue  # not written by Berth: as if absent
            entries[job_id] = LedgerEntry(update=update, seen=seen)
        return entries

    def queued_job_ids(self) -> set[str]:
        """Ids of the jobs whose message is still in one of Dramatiq's queues (waiting, or taken by a worker and not yet
        acknowledged). Raises ``redis.RedisError`` when Redis cannot be reached."""
        found: set[str] = set()
        for key in self._redis.scan_iter(match=f'{NAMESPACE}:*.msgs', count=100):
            if key.endswith(b'.XQ.msgs'):  # dead letters: those ran (or were refused) already
                continue
            for encoded in self._redis.hvals(key):
                try:
                    message = json.loads(encoded)
                    job = message['args'][0]
                    found.add(str(job['job_id']))
                except (ValueError, TypeError, KeyError, IndexError):
                    continue
        return found
