"""Jobs and audit entries go to the database through one writer thread, in the order they were submitted; the caller
(the event loop) only enqueues, readers see what was submitted before them, and a failing write does not stop it."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from core.jobs.store import JobStore, JobUpdate
from core.storage.audit import AuditLog
from core.storage.sqlite import SQLiteDatabase


class RecordingDatabase(SQLiteDatabase):
    """SQLite that notes each statement's first words and thread, and holds statements while ``gate`` is shut."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(path)
        self.gate = threading.Event()
        self.gate.set()
        self.statements: list[tuple[str, str]] = []

    def _execute(self, sql: str, parameters: tuple[Any, ...]) -> int:
        assert self.gate.wait(10), 'the test never opened the gate'
        self.statements.append((' '.join(sql.split()[:3]), threading.current_thread().name))
        return super()._execute(sql, parameters)


def update(job_id: str, status: str) -> JobUpdate:
    return JobUpdate(job_id=job_id, status=status, kind='container.stop', target='c1', target_name='web')


def record(audit: AuditLog, action: str) -> None:
    audit.record(username='alice', role='operator', action=action, target='web', result='ok')


def test_jobs_and_audit_entries_are_written_in_order_by_one_thread_while_the_caller_goes_on() -> None:
    database = RecordingDatabase(':memory:')
    jobs, audit = JobStore(database), AuditLog(database)
    # Given a database that takes its time (the writer is held)
    database.gate.clear()
    # When jobs change and entries are recorded, interleaved
    jobs.apply(update('j1', 'queued'))
    record(audit, 'first')
    jobs.apply(update('j1', 'running'))
    record(audit, 'second')
    jobs.apply(update('j1', 'succeeded'))
    # Then the caller was not held: nothing is written yet, and a flush that cannot wait says so
    assert database.statements == [] and database.writer.pending == 5
    assert not database.writer.flush(timeout=0.05)
    # And once the database answers, everything is written in the order it was submitted, by the writer thread
    database.gate.set()
    assert database.writer.flush()
    assert database.statements == [
        ('INSERT INTO jobs', 'berth-database-writer'),
        ('INSERT INTO audit', 'berth-database-writer'),
        ('INSERT INTO jobs', 'berth-database-writer'),
        ('INSERT INTO audit', 'berth-database-writer'),
        ('INSERT INTO jobs', 'berth-database-writer'),
    ]
    assert database.query('SELECT status FROM jobs') == [{'status': 'succeeded'}]
    assert [entry.action for entry in audit.entries()] == ['second', 'first']


def test_a_read_right_after_a_write_sees_it_through_any_database_of_the_process(tmp_path: Path) -> None:
    path = tmp_path / 'berth.sqlite3'
    database = RecordingDatabase(path)
    jobs = JobStore(database)
    database.gate.clear()
    record(AuditLog(database), 'recorded')
    jobs.apply(update('j1', 'queued'))
    threading.Timer(0.2, database.gate.set).start()  # the writer is slow
    # A read through the same database, or another connection to the same file, waits for the queued writes
    assert JobStore(database, history=0).find('j1') is not None
    assert [entry.action for entry in AuditLog(SQLiteDatabase(path)).entries()] == ['recorded']


def test_a_write_the_database_refuses_is_logged_and_the_next_ones_go_on(caplog: pytest.LogCaptureFixture) -> None:
    database = SQLiteDatabase(':memory:')
    audit = AuditLog(database)
    database.writer.execute('INSERT INTO no_such_table VALUES (1)', what='a row nobody can write')
    record(audit, 'after')
    assert database.writer.flush()
    assert [entry.action for entry in audit.entries()] == ['after']
    assert 'could not write a row nobody can write to the database, so it is not kept: no such table' in caplog.text


def test_writes_wait_in_memory_while_the_database_is_locked_and_keep_their_order(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    path = tmp_path / 'berth.sqlite3'
    database = SQLiteDatabase(path)
    database.writer.retry_seconds = (0.02, 0.05)
    jobs, audit = JobStore(database), AuditLog(database)
    database._connection.execute('PRAGMA busy_timeout = 20')
    # Given another process holding the database's write lock
    other = sqlite3.connect(path, isolation_level=None)
    other.execute('BEGIN EXCLUSIVE')
    # When the panel records an action and its job
    record(audit, 'first')
    jobs.apply(update('j1', 'queued'))
    record(audit, 'second')
    # Then the writer says why, keeps them, and a reader does not wait for them
    deadline = time.monotonic() + 5
    while database.writer.failing is None:
        assert time.monotonic() < deadline, 'the writer never noticed the lock'
        time.sleep(0.01)
    assert 'database is locked' in database.writer.failing
    assert not database.writer.flush(timeout=5) and database.writer.pending == 3
    assert audit.entries() == []
    assert 'could not write the audit entry first web by alice to the database (database is locked)' in caplog.text
    # And once the lock is given back, they are all written, in order
    other.execute('COMMIT')
    while database.writer.pending:
        assert time.monotonic() < deadline + 5, 'the writer never wrote the kept entries'
        time.sleep(0.01)
    assert [entry.action for entry in audit.entries()] == ['second', 'first']
    assert database.query('SELECT job_id FROM jobs') == [{'job_id': 'j1'}]
    assert 'the database answers again' in caplog.text
    other.close()


def test_stop_writes_what_is_queued_and_gives_up_on_a_database_that_does_not_answer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / 'berth.sqlite3'
    database = RecordingDatabase(path)
    audit = AuditLog(database)
    database.gate.clear()
    for number in range(20):
        record(audit, f'entry {number}')
    threading.Timer(0.2, database.gate.set).start()
    database.writer.stop()
    assert database.writer.pending == 0 and len(database.statements) == 20
    # A writer stopped with a locked database gives up after its timeout, and says how much is lost
    database.writer.retry_seconds = (0.02, 0.05)
    database._connection.execute('PRAGMA busy_timeout = 20')
    other = sqlite3.connect(path, isolation_level=None)
    other.execute('BEGIN EXCLUSIVE')
    record(audit, 'lost')
    database.writer.stop(timeout=0.2)
    assert database.writer.pending == 0
    assert 'stopping without writing 1 writes (jobs, audit entries): the database did not answer' in caplog.text
    other.execute('COMMIT')
    # And a write after stop starts the writer again
    record(audit, 'after')
    assert [entry.action for entry in audit.entries(limit=1)] == ['after']
    other.close()


def test_too_many_waiting_writes_are_dropped_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    database = RecordingDatabase(':memory:')
    database.writer.max_pending = 2
    database.gate.clear()
    audit = AuditLog(database)
    for action in ('kept 1', 'kept 2', 'dropped'):
        record(audit, action)
    database.gate.set()
    assert [entry.action for entry in audit.entries()] == ['kept 2', 'kept 1']
    assert 'the audit entry dropped web by alice is not kept (1 dropped so far)' in caplog.text
