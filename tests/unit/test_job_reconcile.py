"""The job centre stays right when the panel could not hear the workers: outcomes are final, updates wait for Redis in
order, and silence is judged with the ledger, never while Redis is away."""

from __future__ import annotations

import time
from collections.abc import Iterable

import redis

from core.jobs.bus import InProcessBus
from core.jobs.ledger import LedgerEntry
from core.jobs.outbox import Outbox
from core.jobs.reconcile import LOST, NEVER_QUEUED, JobReconciler
from core.jobs.store import JobStatus, JobStore, JobUpdate
from core.storage.sqlite import SQLiteDatabase
from tests.support.eventually import eventually_sync


def update(status: str, job_id: str = 'j1', **values: object) -> JobUpdate:
    return JobUpdate(job_id=job_id, status=status, kind='container.stop', target='c1', target_name='web', **values)  # type: ignore[arg-type]


def test_a_lost_job_never_flips_to_succeeded_and_keeps_the_late_word_in_its_output() -> None:
    jobs = JobStore(SQLiteDatabase(':memory:'))
    heard: list[str] = []
    jobs.subscribe(lambda job, change: heard.append(change.status))
    jobs.apply(update('running'))
    jobs.apply(jobs.jobs['j1'].failed(LOST))
    jobs.apply(update('succeeded', message='restarted'))
    job = jobs.jobs['j1']
    assert (job.status, job.message) == ('failed', LOST)
    assert list(job.output) == ['(after the job had ended as failed, its worker reported succeeded: restarted)']
    assert heard == ['running', 'failed']  # no second notification, no second audit entry


class FlakyRedis:
    """A write that fails while ``down``."""

    def __init__(self) -> None:
        self.down = False
        self.written: list[tuple[str, str]] = []

    def write(self, update: JobUpdate) -> None:
        if self.down:
            raise redis.ConnectionError('Connection refused')
        self.written.append((update.job_id, update.status))


def test_updates_wait_for_redis_in_order_and_go_out_when_it_answers_again() -> None:
    server = FlakyRedis()
    outbox = Outbox(server.write, retry_seconds=0.01)
    outbox.send(update('running'))
    server.down = True
    for status in ('heartbeat', 'heartbeat', 'progress', 'succeeded'):
        outbox.send(update(status))
    outbox.send(update('running', job_id='j2'))
    assert outbox.waiting == 4  # the two heartbeats in a row are one
    server.down = False
    eventually_sync(lambda: outbox.waiting == 0, 5, 'the outbox flushed')
    assert server.written == [
        ('j1', 'running'), ('j1', 'heartbeat'), ('j1', 'progress'), ('j1', 'succeeded'), ('j2', 'running')
    ]  # fmt: skip


class FakeLedger:
    def __init__(self, entries: dict[str, LedgerEntry], queued: set[str] | None = None) -> None:
        self.entries = entries
        self.queued = queued or set()

    def read(self, job_ids: Iterable[str]) -> dict[str, LedgerEntry]:
        return {job_id: self.entries[job_id] for job_id in job_ids if job_id in self.entries}

    def queued_job_ids(self) -> set[str]:
        return self.queued


def reconciler(jobs: JobStore, ledger: FakeLedger) -> JobReconciler:
    bus = InProcessBus()
    bus.ledger = ledger  # type: ignore[assignment]
    return JobReconciler(jobs, bus)


async def test_silence_is_judged_with_the_ledger_and_not_while_redis_is_away() -> None:
    jobs = JobStore(SQLiteDatabase(':memory:'), lost_after=5)
    for job_id in ('alive', 'ended', 'silent'):
        jobs.apply(update('running', job_id=job_id))
    now = time.time() + 60
    ledger = FakeLedger(
        {
            'alive': LedgerEntry(update=update('running', job_id='alive'), seen=now - 1),
            'ended': LedgerEntry(update=update('succeeded', job_id='ended', message='stopped'), seen=now - 30),
            'silent': LedgerEntry(update=update('running', job_id='silent'), seen=now - 30),
        }
    )
    watch = reconciler(jobs, ledger)
    watch.bus.status.lost()
    await watch.check_lost(now)
    assert {job.job_id: job.status for job in jobs.jobs.values()} == dict.fromkeys(
        ('alive', 'ended', 'silent'), 'running'
    )
    watch.bus.status.reachable = True
    await watch.check_lost(now)
    assert {job.job_id: job.status for job in jobs.jobs.values()} == {
        'alive': 'running', 'ended': 'succeeded', 'silent': 'failed'
    }  # fmt: skip
    assert jobs.jobs['silent'].message == LOST


async def test_a_restarted_panel_takes_the_ledgers_word_and_fails_what_never_reached_the_queue(tmp_path) -> None:  # type: ignore[no-untyped-def]
    database = SQLiteDatabase(tmp_path / 'berth.sqlite3')
    before = JobStore(database)
    for job_id, status in (('done', 'running'), ('waiting', 'queued'), ('never', 'queued'), ('on', 'running')):
        before.apply(update(status, job_id=job_id))
    jobs = JobStore(database, keep_active=True)  # a new panel, with Redis
    assert {job.status for job in jobs.jobs.values()} == {JobStatus.RUNNING, JobStatus.QUEUED}
    ledger = FakeLedger(
        {
            'done': LedgerEntry(update=update('succeeded', job_id='done', message='stopped'), seen=time.time()),
            'on': LedgerEntry(update=update('running', job_id='on'), seen=time.time()),
        },
        queued={'waiting'},
    )
    await reconciler(jobs, ledger).reconcile()
    assert {job.job_id: job.status for job in jobs.jobs.values()} == {
        'done': 'succeeded', 'waiting': 'queued', 'never': 'failed', 'on': 'running'
    }  # fmt: skip
    assert jobs.jobs['never'].message == NEVER_QUEUED
