"""Jobs (flow 2): the update messages workers publish, and the panel's job store that keeps the history."""

from __future__ import annotations

import json
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from core.permissions import LOCAL_ENDPOINT, Scope
from core.storage.database import Database


class JobStatus(StrEnum):
    """What a job update says (and, of the first, last two and ``running``, what a job is); the values are what the
    database rows and the bus messages carry."""

    QUEUED = 'queued'
    RUNNING = 'running'
    HEARTBEAT = 'heartbeat'  # a running job is still alive
    PROGRESS = 'progress'  # a running job reports how far it got
    SUCCEEDED = 'succeeded'
    FAILED = 'failed'


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
OUTPUT_LINES = 2000
FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED)


@dataclass(kw_only=True, slots=True)
class JobUpdate:
    """One message on the bus: queued / running / heartbeat / progress / succeeded / failed."""

    job_id: str
    status: str
    kind: str = ''
    target: str = ''
    target_name: str = ''
    requested_by: str = ''
    message: str = ''
    progress: float | None = None
    detail: dict[str, Any] | None = None
    output: str = ''
    endpoint: str = LOCAL_ENDPOINT  # the Docker endpoint the job runs against
    owner: str = ''  # the berth.owner of the resource it acts on ('' for resources nobody owns)
    at: float = field(default_factory=time.time)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | bytes) -> JobUpdate:
        data = json.loads(text)
        return cls(**{key: data[key] for key in data if key in cls.__dataclass_fields__})


@dataclass(kw_only=True, slots=True)
class Job:
    """What the job centre shows of one job."""

    job_id: str
    kind: str
    target: str
    target_name: str
    requested_by: str
    endpoint: str = LOCAL_ENDPOINT  # the Docker endpoint the job runs against
    owner: str = ''  # the berth.owner of the resource it acts on: who else may see the job
    status: JobStatus = JobStatus.QUEUED
    message: str = ''
    progress: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    output: deque[str] = field(default_factory=lambda: deque(maxlen=OUTPUT_LINES))
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    last_seen: float = field(default_factory=time.time)
    queued_here: bool = False  # this panel queued it (another panel on the same Redis hears of it too)

    @property
    def duration(self) -> float | None:
        if self.started_at is None:
            return None
        return (self.finished_at or time.time()) - self.started_at

    @property
    def scope(self) -> Scope:
        """The job is seen where its resource is: an own-resources-only reader sees the jobs on their own things."""
        return Scope(endpoint=self.endpoint, owner=self.owner)

    @property
    def action(self) -> str:
        return self.kind.rsplit('.', 1)[-1]

    def failed(self, message: str) -> JobUpdate:
        """The update that ends this job as failed when the panel itself decides so (queue unreachable, worker lost)."""
        return JobUpdate(
            job_id=self.job_id,
            status=JobStatus.FAILED,
            kind=self.kind,
            target=self.target,
            target_name=self.target_name,
            requested_by=self.requested_by,
            endpoint=self.endpoint,
            owner=self.owner,
            message=message,
        )


def _job_of(row: dict[str, Any]) -> Job:
    """A job as the database row has it (its output, one line per line, in the same column)."""
    output = row.pop('output') or ''
    job = Job(**{**row, 'status': JobStatus(row['status'])})
    job.output.extend(output.splitlines())
    return job


def new_job_id() -> str:
    return uuid.uuid4().hex


JobListener = Callable[[Job, JobUpdate], None]


class JobStore:
    """Recent jobs in memory, every job in the database (written by the database's writer thread, in order);
    changed on the event loop only."""

    def __init__(
        self, database: Database, *, history: int = 500, lost_after: float = 30.0, keep_active: bool = False
    ) -> None:
        """``keep_active``: jobs the database has as active stay so (workers in other processes may run them still:
        :mod:`core.jobs.reconcile` asks the ledger); else they were the panel's own and ended with it."""
        self.database = database
        self.history = history
        self.lost_after = lost_after
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self._listeners: list[JobListener] = []
        for row in reversed(database.query('SELECT * FROM jobs ORDER BY created_at DESC LIMIT ?', (history,))):
            job = _job_of(row)
            if job.status in ACTIVE and not keep_active:  # the panel's own worker threads stopped with it
                job.status, job.finished_at = JobStatus.FAILED, time.time()
                job.message = 'the panel restarted while the job was active'
                self._persist(job)
            self.jobs[job.job_id] = job

    def subscribe(self, listener: JobListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    @property
    def active_count(self) -> int:
        return sum(1 for job in self.jobs.values() if job.status in ACTIVE)

    def active(self) -> list[Job]:
        return [job for job in self.jobs.values() if job.status in ACTIVE]

    def active_targets(self) -> set[str]:
        return {job.target for job in self.jobs.values() if job.status in ACTIVE}

    def recent(self, limit: int | None = None) -> list[Job]:
        jobs = list(reversed(self.jobs.values()))
        return jobs[:limit] if limit else jobs

    def find(self, job_id: str) -> Job | None:
        """A job by id: recent ones from memory, older ones (with their output) from the database."""
        if job_id in self.jobs:
            return self.jobs[job_id]
        rows = self.database.query('SELECT * FROM jobs WHERE job_id = ?', (job_id,))
        return _job_of(rows[0]) if rows else None

    def apply(self, update: JobUpdate) -> None:
        """Folds one bus message into the job; unknown jobs (other panels' jobs) are created from it."""
        job = self.jobs.get(update.job_id)
        if job is None:
            job = Job(
                job_id=update.job_id,
                kind=update.kind,
                target=update.target,
                target_name=update.target_name,
                requested_by=update.requested_by,
                endpoint=update.endpoint,
                owner=update.owner,
                created_at=update.at,
                queued_here=update.status == JobStatus.QUEUED,  # only the panel that queues a job sees this one
            )
            self.jobs[job.job_id] = job
            while len(self.jobs) > self.history:
                self.jobs.popitem(last=False)
        if job.status in FINISHED:  # how a job ended is final: a late heartbeat changes nothing, nor a late outcome
            if update.status in FINISHED and update.status != job.status:
                said = f'{update.status}: {update.message}' if update.message else update.status
                job.output.append(f'(after the job had ended as {job.status}, its worker reported {said})')
                self._persist(job)
            return
        job.last_seen = time.time()
        if update.status in (JobStatus.RUNNING, JobStatus.HEARTBEAT, JobStatus.PROGRESS):
            if job.started_at is None:
                job.started_at = update.at
            job.status = JobStatus.RUNNING
        elif update.status in FINISHED:
            job.status = JobStatus(update.status)
            job.finished_at = update.at
            job.started_at = job.started_at or update.at
        if update.message:
            job.message = update.message
        if update.progress is not None:
            job.progress = update.progress
        if update.detail:
            job.detail.update(update.detail)
        if update.output:
            job.output.extend(update.output.splitlines())
        if update.status in FINISHED or update.status in ACTIVE:
            self._persist(job)
        for listener in list(self._listeners):
            listener(job, update)

    def mark_lost(self, now: float | None = None) -> list[JobUpdate]:
        """Updates that fail running jobs whose worker went silent (killed mid-job)."""
        now = now or time.time()
        return [
            job.failed('lost contact with the worker while the job was running (worker stopped?)')
            for job in self.jobs.values()
            if job.status == JobStatus.RUNNING and now - job.last_seen > self.lost_after
        ]

    def _persist(self, job: Job) -> None:
        """Queues the job's row for the database writer (core/storage/writer.py): the loop never waits for it."""
        self.database.writer.upsert(
            'jobs',
            'job_id',
            {
                'job_id': job.job_id,
                'kind': job.kind,
                'target': job.target,
                'target_name': job.target_name,
                'requested_by': job.requested_by,
                'endpoint': job.endpoint,
                'owner': job.owner,
                'status': job.status.value,
                'message': job.message,
                'created_at': job.created_at,
                'started_at': job.started_at,
                'finished_at': job.finished_at,
                'output': '\n'.join(job.output),
            },
            what=f'job {job.job_id} ({job.kind} {job.target_name}, {job.status.value})',
        )
