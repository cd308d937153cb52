"""The database behaviours the panel relies on, against both backends: the SQLite file and PostgreSQL.

PostgreSQL comes from scripts/test-env.sh (role ``berth``, database ``berth_test``; override with
``BERTH_TEST_DATABASE_URL``); every test gets a fresh schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from auth.accounts import Accounts
from core.jobs.store import JobStore, JobUpdate
from core.settings import Settings
from core.state.images import ImageRow
from core.state.model import DockerState
from core.storage import make_database
from core.storage.audit import AuditLog
from core.storage.credentials import RegistryCredentials, SecretBox
from core.storage.database import Database, DatabaseUnavailable
from core.storage.postgres import PostgresDatabase
from core.updates.check import UpdateResult, UpdateStatus
from core.updates.results import UpdateResults
from system import build
from tests.support.eventually import eventually
from tests.unit.test_jobs import update

POSTGRES_URL = os.environ.get('BERTH_TEST_DATABASE_URL', 'postgresql://berth:berth@localhost:5432/berth_test')
OLD_JOBS_TABLE = (
    'CREATE TABLE jobs (job_id TEXT PRIMARY KEY, kind TEXT NOT NULL, target TEXT NOT NULL, '
    'target_name TEXT NOT NULL, requested_by TEXT NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL, '
    'created_at REAL NOT NULL, started_at REAL, finished_at REAL)'
)
OLD_JOB = "INSERT INTO jobs VALUES ('j0', 'container.stop', 'c', 'web', 'alice', 'succeeded', 'stopped', 1, 1, 2)"
# the jobs and audit tables before the endpoint columns (the jobs table already had its output)
JOBS_WITHOUT_ENDPOINT = OLD_JOBS_TABLE[:-1] + ", output TEXT NOT NULL DEFAULT '')"
AUDIT_WITHOUT_ENDPOINT = (
    'CREATE TABLE audit (id {serial_id}, at REAL NOT NULL, username TEXT NOT NULL, role TEXT NOT NULL, '
    'action TEXT NOT NULL, target TEXT NOT NULL, params TEXT NOT NULL, result TEXT NOT NULL, address TEXT NOT NULL)'
)
OLD_AUDIT_ENTRY = (
    'INSERT INTO audit (at, username, role, action, target, params, result, address) '
    "VALUES (1, 'alice', 'operator', 'container.stop', 'web', '{}', 'queued', '')"
)


@dataclass
class Backend:
    """One empty database: ``settings`` point at it, ``open`` connects (again), ``raw`` runs SQL beside Berth."""

    name: str
    settings: Settings
    raw: Callable[[str], None]

    def open(self) -> Database:
        return make_database(self.settings)


@pytest.fixture(params=['sqlite', 'postgresql'])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    data_dir = tmp_path / 'data'
    if request.param == 'sqlite':

        def raw_sqlite(sql: str) -> None:
            data_dir.mkdir(parents=True, exist_ok=True)
            with sqlite3.connect(data_dir / 'berth.sqlite3') as connection:
                connection.execute(sql)

        yield Backend('sqlite', Settings(data_dir=data_dir, redis_url=None, docker_host=None), raw_sqlite)
        return
    schema = f'test_{uuid.uuid4().hex[:12]}'
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA {schema}'.encode())
    url = f'{POSTGRES_URL}{"&" if "?" in POSTGRES_URL else "?"}options={quote(f"-csearch_path={schema}")}'

    def raw_postgres(sql: str) -> None:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(sql.encode())

    try:
        yield Backend(
            'postgresql', Settings(data_dir=data_dir, database_url=url, redis_url=None, docker_host=None), raw_postgres
        )
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA {schema} CASCADE'.encode())


def test_the_backend_is_the_one_configured(backend: Backend) -> None:
    database = backend.open()
    assert isinstance(database, PostgresDatabase) == (backend.name == 'postgresql')
    assert (backend.settings.database_path.exists()) == (backend.name == 'sqlite')
    database.close()


def test_accounts_create_verify_disable(backend: Backend) -> None:
    database = backend.open()
    accounts = Accounts(database)
    generated = accounts.ensure_first_admin(None)
    assert generated and accounts.ensure_first_admin(None) is None
    assert accounts.verify('admin', generated) is not None and accounts.verify('admin', 'admin') is None
    accounts.create('vera', 'a long password', 'viewer')
    assert accounts.verify('vera', 'a long password') is not None
    accounts.set_disabled('vera', True)
    assert accounts.verify('vera', 'a long password') is None
    assert accounts.get('vera') is not None and accounts.get('vera').disabled  # type: ignore[union-attr]
    assert accounts.upsert_external('sam', 'operator', source='oidc', subject='https://idp|s-1') == ''
    assert accounts.upsert_external('sam', 'admin', source='oidc', subject='https://idp|s-1') == ''
    assert accounts.get('sam').role == 'admin'  # type: ignore[union-attr]
    assert accounts.get('sam').owner_id == 'https://idp|s-1'  # type: ignore[union-attr]
    assert accounts.upsert_external('sam', 'admin', source='oidc', subject='https://idp|s-2') != ''
    assert accounts.upsert_external('vera', 'admin', source='oidc') != ''
    assert [account.username for account in accounts.all()] == ['admin', 'sam', 'vera']
    database.close()


def test_jobs_survive_a_restart_and_keep_their_output(backend: Backend) -> None:
    database = backend.open()
    jobs = JobStore(database)
    jobs.apply(update('queued'))
    jobs.apply(update('running', output='line 1\nline 2'))
    jobs.apply(update('succeeded', message='stopped, 100% done'))
    jobs.apply(
        JobUpdate(
            job_id='j2', status='running', kind='image.pull', target='i', target_name='busybox', requested_by='bob'
        )
    )
    database.close()
    restarted = JobStore(backend.open())
    assert list(restarted.jobs) == ['j1', 'j2']
    assert restarted.jobs['j1'].status == 'succeeded' and restarted.jobs['j1'].message == 'stopped, 100% done'
    assert list(restarted.jobs['j1'].output) == ['line 1', 'line 2']
    assert restarted.jobs['j2'].status == 'failed' and 'restarted' in restarted.jobs['j2'].message
    assert restarted.jobs['j1'].created_at == jobs.jobs['j1'].created_at  # full float precision
    history = JobStore(restarted.database, history=1)
    assert list(history.jobs) == ['j2'] and history.find('j1') is not None and history.find('nope') is None
    restarted.database.close()


def test_audit_records_filters_and_refuses_changes(backend: Backend) -> None:
    database = backend.open()
    audit = AuditLog(database)
    audit.record(
        username='alice',
        role='operator',
        action='container.stop',
        target='web',
        result='queued',
        params={'why': '50% off'},
    )
    audit.record(username='bob', role='admin', action='image.pull', target='busybox', result='queued')
    assert [entry.action for entry in audit.entries()] == ['image.pull', 'container.stop']
    assert [entry.username for entry in audit.entries(action='container')] == ['alice']
    assert [entry.target for entry in audit.entries(username='bob')] == ['busybox']
    assert [entry.action for entry in audit.entries(limit=1)] == ['image.pull']
    with pytest.raises((sqlite3.DatabaseError, psycopg.Error), match='append-only'):
        database.execute('DELETE FROM audit')
    with pytest.raises((sqlite3.DatabaseError, psycopg.Error), match='append-only'):
        database.execute("UPDATE audit SET result = 'x'")
    assert len(audit.entries()) == 2
    database.close()


def test_saved_registry_credentials_are_replaced_not_duplicated(backend: Backend) -> None:
    database = backend.open()
    box = SecretBox.from_settings(backend.settings.model_copy(update={'secret_key': 'a test key'}))
    assert box is not None
    credentials = RegistryCredentials(database, box)
    credentials.save('127.0.0.1:5000', 'puller', 'hunter2', 'olga')
    credentials.save('127.0.0.1:5000', 'puller', 'changed', 'olga')
    assert credentials.get('127.0.0.1:5000') == {'username': 'puller', 'password': 'changed'}
    assert [saved.registry for saved in credentials.saved()] == ['127.0.0.1:5000']
    assert credentials.forget('127.0.0.1:5000') and not credentials.forget('127.0.0.1:5000')
    database.close()


def test_update_check_results_are_replaced_per_reference_kept_and_cleared(backend: Backend) -> None:
    digest, reference = 'sha256:' + 'a' * 64, '127.0.0.1:5000/team/app:1'
    image = ImageRow(id='sha256:' + '1' * 64, tags=[reference], digests=[f'127.0.0.1:5000/team/app@{digest}'])
    state = DockerState()
    state.replace_images([image])
    database = backend.open()
    results = UpdateResults(database, state)
    for remote in ('sha256:' + 'b' * 64, 'sha256:' + 'c' * 64):  # the second check replaces the first
        found = UpdateResult(
            reference=reference,
            status=UpdateStatus.AVAILABLE,
            remote_digest=remote,
            image_id=image.id,
            local_digests=image.digests,
        )
        results.record('local', [found])
    database.close()
    database = backend.open()
    state = DockerState()  # a panel started again
    state.replace_images([image])
    kept = UpdateResults(database, state)
    assert kept.available('local', reference) is True
    assert kept.status('local', reference).remote_digest == 'sha256:' + 'c' * 64  # type: ignore[union-attr]
    state.upsert_image(
        ImageRow(id='sha256:' + '2' * 64, tags=[reference], digests=[f'127.0.0.1:5000/team/app@{digest}'])
    )
    assert kept.status('local', reference) is None  # the tag moved to an image the registry does not name
    assert database.query('SELECT * FROM image_updates') == []
    database.close()


def test_a_database_from_an_earlier_schema_is_migrated(backend: Backend) -> None:
    backend.raw(OLD_JOBS_TABLE)
    backend.raw(OLD_JOB)
    database = backend.open()
    jobs = JobStore(database)
    assert jobs.jobs['j0'].message == 'stopped' and list(jobs.jobs['j0'].output) == []
    jobs.apply(
        JobUpdate(
            job_id='j0',
            status='failed',
            kind='container.stop',
            target='c',
            target_name='web',
            requested_by='alice',
        )
    )
    # the job had ended: the late outcome is a line of its output, kept in the migrated table
    late = '(after the job had ended as succeeded, its worker reported failed)'
    assert database.query('SELECT output FROM jobs WHERE job_id = ?', ('j0',)) == [{'output': late}]
    database.close()
    assert list(JobStore(backend.open()).jobs['j0'].output) == [late]  # a second start migrates nothing twice


def test_a_database_without_the_endpoint_columns_is_migrated(backend: Backend) -> None:
    serial_id = 'INTEGER PRIMARY KEY AUTOINCREMENT' if backend.name == 'sqlite' else 'BIGSERIAL PRIMARY KEY'
    for sql in (
        JOBS_WITHOUT_ENDPOINT,
        OLD_JOB.replace(', 2)', ", 2, '')"),
        AUDIT_WITHOUT_ENDPOINT.format(serial_id=serial_id),
        OLD_AUDIT_ENTRY,
    ):
        backend.raw(sql)
    database = backend.open()
    jobs, audit = JobStore(database), AuditLog(database)
    assert jobs.jobs['j0'].endpoint == 'local'
    assert [(entry.action, entry.endpoint) for entry in audit.entries()] == [('container.stop', 'local')]
    jobs.apply(update('queued', endpoint='edge-1'))
    audit.record(username='bob', role='admin', action='image.pull', target='busybox', result='ok', endpoint='edge-1')
    database.close()
    reopened = backend.open()  # a second start migrates nothing twice
    assert JobStore(reopened).jobs['j1'].endpoint == 'edge-1'
    assert [entry.endpoint for entry in AuditLog(reopened).entries()] == ['edge-1', 'local']
    with pytest.raises((sqlite3.DatabaseError, psycopg.Error), match='append-only'):
        reopened.execute("UPDATE audit SET endpoint = 'x'")  # the migrated table is still append-only
    reopened.close()


@pytest.mark.parametrize('backend', ['postgresql'], indirect=True)
def test_a_dropped_postgresql_connection_loses_no_write(backend: Backend, caplog: pytest.LogCaptureFixture) -> None:
    database = backend.open()
    database.writer.retry_seconds = (0.05, 0.2)
    audit = AuditLog(database)
    audit.record(username='alice', role='operator', action='before', target='web', result='ok')
    pid = database.query('SELECT pg_backend_pid() AS pid')[0]['pid']
    # When the server drops the panel's connection (a restart, an administrator), while entries are being recorded
    backend.raw(f'SELECT pg_terminate_backend({int(pid)})')
    for action in ('during 1', 'during 2'):
        audit.record(username='alice', role='operator', action=action, target='web', result='ok')
    # Then the writer connects again and writes them, in order; nothing was lost
    deadline = time.monotonic() + 15
    while not database.writer.flush():
        assert time.monotonic() < deadline, f'still failing: {database.writer.failing}'
        time.sleep(0.05)
    assert [entry.action for entry in audit.entries()] == ['during 2', 'during 1', 'before']
    assert database.query('SELECT pg_backend_pid() AS pid')[0]['pid'] != pid
    assert 'wait in memory and are tried again' in caplog.text and 'the database answers again' in caplog.text
    database.close()


@pytest.mark.parametrize('backend', ['postgresql'], indirect=True)
def test_the_first_read_after_a_dropped_connection_answers(backend: Backend) -> None:
    database = backend.open()
    pid = database.query('SELECT pg_backend_pid() AS pid')[0]['pid']
    # When the server drops the panel's idle connection (a restart), and a page reads before anything else noticed
    backend.raw(f'SELECT pg_terminate_backend({int(pid)})')
    # Then the read answers, on a new connection (a read is safe to ask again), instead of failing once
    assert database.query('SELECT pg_backend_pid() AS pid')[0]['pid'] != pid
    database.close()


async def test_full_services_start_and_stop(backend: Backend) -> None:
    services = build(backend.settings)
    assert isinstance(services.database, PostgresDatabase) == (backend.name == 'postgresql')
    assert services.accounts.ensure_first_admin('a long password') is None
    await services.start()
    await eventually(lambda: services.state.engine_ok and services.state.synced_at > 0, what='first resync')
    services.audit.record(username='admin', role='admin', action='test', target='x', result='ok')
    await services.stop()
    assert services.database.writer.pending == 0  # stopping wrote what was queued
    assert [entry.action for entry in AuditLog(backend.open()).entries()] == ['test']


def test_an_unreachable_postgresql_is_one_clear_sentence(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url='postgresql://berth:secret@127.0.0.1:1/berth')
    with pytest.raises(
        DatabaseUnavailable,
        match=r'cannot reach the PostgreSQL database at '
        r'postgresql://berth:\*\*\*@127\.0\.0\.1:1/berth',
    ) as caught:
        make_database(settings)
    assert 'secret' not in str(caught.value)
