import json
import sqlite3
import time

from core.jobs.store import JobStatus, JobStore, JobUpdate
from core.permissions import Identity, Permission
from core.storage.sqlite import SQLiteDatabase


def store(lost_after: float = 30.0) -> JobStore:
    return JobStore(SQLiteDatabase(':memory:'), lost_after=lost_after)


def update(status: str, **values: object) -> JobUpdate:
    return JobUpdate(
        job_id='j1',
        status=status,
        kind='container.stop',
        target='c1',
        target_name='web',
        requested_by='alice',
        **values,
    )  # type: ignore[arg-type]


def test_job_goes_queued_running_succeeded() -> None:
    jobs = store()
    seen: list[str] = []
    jobs.subscribe(lambda job, change: seen.append(job.status))
    jobs.apply(update('queued'))
    assert jobs.active_count == 1 and jobs.active_targets() == {'c1'}
    jobs.apply(update('running'))
    jobs.apply(update('succeeded', message='stopped'))
    job = jobs.jobs['j1']
    assert (job.status, job.message, jobs.active_count) == ('succeeded', 'stopped', 0)
    assert job.duration is not None and job.duration >= 0
    assert seen == ['queued', 'running', 'succeeded']


def test_late_heartbeat_does_not_reopen_a_finished_job() -> None:
    jobs = store()
    jobs.apply(update('failed', message='No such container'))
    jobs.apply(update('heartbeat'))
    assert jobs.jobs['j1'].status == 'failed'


def test_silent_running_job_is_marked_lost() -> None:
    jobs = store(lost_after=5)
    jobs.apply(update('running'))
    assert jobs.mark_lost(time.time()) == []
    lost = jobs.mark_lost(time.time() + 6)
    assert [change.status for change in lost] == ['failed']
    jobs.apply(lost[0])
    assert 'lost contact with the worker' in jobs.jobs['j1'].message


def test_history_survives_a_restart_and_active_jobs_end(tmp_path) -> None:  # type: ignore[no-untyped-def]
    database = SQLiteDatabase(tmp_path / 'berth.sqlite3')
    jobs = JobStore(database)
    jobs.apply(update('running'))
    restarted = JobStore(database)
    assert restarted.jobs['j1'].status == 'failed'
    assert 'restarted' in restarted.jobs['j1'].message


def test_update_round_trips_as_json() -> None:
    original = update('progress', progress=0.5, message='half')
    assert JobUpdate.from_json(original.to_json()) == original


def test_a_database_from_an_earlier_schema_is_migrated_and_keeps_its_jobs(tmp_path) -> None:  # type: ignore[no-untyped-def]

    path = tmp_path / 'old.sqlite3'
    old = sqlite3.connect(path)
    old.execute(
        'CREATE TABLE jobs (job_id TEXT PRIMARY KEY, kind TEXT NOT NULL, target TEXT NOT NULL, '
        'target_name TEXT NOT NULL, requested_by TEXT NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL, '
        'created_at REAL NOT NULL, started_at REAL, finished_at REAL)'
    )
    old.execute(
        "INSERT INTO jobs VALUES ('j0', 'container.stop', 'c', 'web', 'alice', 'succeeded', 'stopped', 1, 1, 2)"
    )
    old.commit()
    old.close()
    jobs = JobStore(SQLiteDatabase(path))
    assert jobs.jobs['j0'].message == 'stopped' and list(jobs.jobs['j0'].output) == []
    assert jobs.jobs['j0'].endpoint == 'local'


def test_a_jobs_endpoint_is_kept_and_loaded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    database = SQLiteDatabase(tmp_path / 'berth.sqlite3')
    jobs = JobStore(database)
    jobs.apply(update('queued', endpoint='edge-1'))
    jobs.apply(update('succeeded'))
    jobs.apply(JobUpdate(job_id='j2', status='queued', kind='image.pull', target='i', target_name='i'))
    restarted = JobStore(database)
    assert [restarted.jobs[job_id].endpoint for job_id in ('j1', 'j2')] == ['edge-1', 'local']
    assert JobStore(database, history=0).find('j1').endpoint == 'edge-1'  # type: ignore[union-attr]


def test_statuses_keep_their_words_on_the_bus_and_in_the_database() -> None:
    assert [status.value for status in JobStatus] == [
        'queued',
        'running',
        'heartbeat',
        'progress',
        'succeeded',
        'failed',
    ]
    jobs = store()
    jobs.apply(update(JobStatus.QUEUED))
    jobs.apply(update('running'))
    assert jobs.jobs['j1'].status is JobStatus.RUNNING and jobs.jobs['j1'].status == 'running'
    rows = jobs.database.query('SELECT status FROM jobs')
    assert rows == [{'status': 'running'}] and type(rows[0]['status']) is str
    assert json.loads(update(JobStatus.FAILED).to_json())['status'] == 'failed'
    assert JobStore(jobs.database).jobs['j1'].status is JobStatus.FAILED  # loaded back as the enum


def test_a_jobs_owner_is_kept_and_decides_who_sees_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    database = SQLiteDatabase(tmp_path / 'berth.sqlite3')
    jobs = JobStore(database)
    jobs.apply(update('queued', owner='local:dana'))
    jobs.apply(JobUpdate(job_id='j2', status='queued', kind='container.stop', target='c', target_name='shared'))
    restarted = JobStore(database)
    assert [restarted.jobs[job_id].owner for job_id in ('j1', 'j2')] == ['local:dana', '']
    assert restarted.jobs['j1'].failed('lost').owner == 'local:dana'  # the panel's own failure keeps it
    dana = Identity(username='dana', role='developer', subject='local:dana')
    eve = Identity(username='eve', role='developer', subject='local:eve')
    viewer = Identity(username='vic', role='viewer')
    assert [job.job_id for job in restarted.recent() if dana.can(Permission.JOB_READ, job.scope)] == ['j1']
    assert [job.job_id for job in restarted.recent() if eve.can(Permission.JOB_READ, job.scope)] == []
    assert len([job for job in restarted.recent() if viewer.can(Permission.JOB_READ, job.scope)]) == 2
