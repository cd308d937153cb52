"""The panel's database: users, jobs, audit entries, templates, quotas, sandbox runtimes and runs, saved registry
credentials, image update checks, per-host roles.

:class:`Database` is what every backend offers: ``execute``, ``query`` and ``upsert`` with SQLite-flavoured SQL and
``?`` placeholders (PostgreSQL translates them). Embedded SQLite under ``BERTH_DATA_DIR`` by default
(core/storage/sqlite.py); PostgreSQL when ``BERTH_DATABASE_URL`` is set (core/storage/postgres.py);
``core.storage.make_database`` picks one. Jobs and audit entries are written by one thread per database, in order
(core/storage/writer.py); every read waits for the writes queued before it."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import Any

from core.storage.errors import DatabaseUnreachable
from core.storage.writer import DatabaseWriter, flush_all

_WRITER_LOCK = threading.Lock()

# Both backends make the same tables; only these two types differ (see core/postgres.py for its triggers).
TABLES = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    password_hash TEXT,
    role TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'local',
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at {real} NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    sso_groups TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    target_name TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at {real} NOT NULL,
    started_at {real},
    finished_at {real},
    output TEXT NOT NULL DEFAULT '',
    endpoint TEXT NOT NULL DEFAULT 'local',
    owner TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at);
CREATE TABLE IF NOT EXISTS audit (
    id {serial_id},
    at {real} NOT NULL,
    username TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    params TEXT NOT NULL,
    result TEXT NOT NULL,
    address TEXT NOT NULL,
    endpoint TEXT NOT NULL DEFAULT 'local'
);
CREATE TABLE IF NOT EXISTS templates (
    name TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at {real} NOT NULL
);
CREATE TABLE IF NOT EXISTS quotas (
    rule TEXT PRIMARY KEY,
    applies TEXT NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at {real} NOT NULL
);
CREATE TABLE IF NOT EXISTS sandbox_runtimes (
    name TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at {real} NOT NULL
);
CREATE TABLE IF NOT EXISTS sandbox_runs (
    run_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    username TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    runtime TEXT NOT NULL,
    phase TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    created_at {real} NOT NULL,
    finished_at {real},
    request TEXT NOT NULL,
    result TEXT NOT NULL,
    output TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sandbox_runs_owner ON sandbox_runs (owner, created_at);
CREATE TABLE IF NOT EXISTS endpoints (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    sealed TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at {real} NOT NULL
);
CREATE TABLE IF NOT EXISTS endpoint_roles (
    rule TEXT PRIMARY KEY,
    endpoint TEXT NOT NULL,
    role TEXT NOT NULL,
    members TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at {real} NOT NULL
);
CREATE TABLE IF NOT EXISTS registry_credentials (
    registry TEXT PRIMARY KEY,
    sealed TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    saved_at {real} NOT NULL
);
CREATE TABLE IF NOT EXISTS image_updates (
    endpoint TEXT NOT NULL,
    reference TEXT NOT NULL,
    status TEXT NOT NULL,
    remote_digest TEXT NOT NULL,
    image_id TEXT NOT NULL,
    local_digests TEXT NOT NULL,
    message TEXT NOT NULL,
    checked_at {real} NOT NULL,
    PRIMARY KEY (endpoint, reference)
);
"""
# (table, column, declaration) for every column added after the first release of a table
ADDED_COLUMNS = [
    ('users', 'subject', "TEXT NOT NULL DEFAULT ''"),  # an SSO account's stable identity: issuer|sub
    ('users', 'sso_groups', "TEXT NOT NULL DEFAULT '[]'"),  # the groups claim of its last SSO sign-in (JSON list)
    ('jobs', 'output', "TEXT NOT NULL DEFAULT ''"),
    ('jobs', 'endpoint', "TEXT NOT NULL DEFAULT 'local'"),  # the Docker endpoint a job ran against
    ('jobs', 'owner', "TEXT NOT NULL DEFAULT ''"),  # the berth.owner of the resource a job acted on
    ('audit', 'endpoint', "TEXT NOT NULL DEFAULT 'local'"),  # the Docker endpoint an action was about
]


class Database(ABC):
    """The interface every backend keeps: ``execute``, ``query``, ``upsert``, ``close``, and a :attr:`writer` for
    the writes nobody waits for (jobs, audit entries).

    A backend implements ``_execute``, ``_query`` and ``_close``; every statement and query waits first for the
    writes queued before it in this process (``core/storage/writer.py``), so it sees them."""

    _writer: DatabaseWriter | None = None

    @property
    def writer(self) -> DatabaseWriter:
        """This database's one writer thread: writes queued in order, the caller never waits (made on first use)."""
        with _WRITER_LOCK:
            if self._writer is None:
                self._writer = DatabaseWriter(self)
            return self._writer

    def execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> int:
        """Runs one statement (after the queued writes); returns the number of changed rows. Raises
        :class:`DatabaseUnreachable` (a sentence) when the database cannot be reached."""
        flush_all()
        try:
            return self._execute(sql, parameters)
        except Exception as error:
            if self.unreachable(error):
                raise DatabaseUnreachable(self.public_reason(error)) from error
            raise

    def query(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Runs one query (after the queued writes); returns its rows as dicts. Raises :class:`DatabaseUnreachable`
        (a sentence) when the database cannot be reached."""
        flush_all()
        try:
            return self._query(sql, parameters)
        except Exception as error:
            if self.unreachable(error):
                raise DatabaseUnreachable(self.public_reason(error)) from error
            raise

    def upsert(self, table: str, key: str, row: dict[str, Any]) -> int:
        """Inserts ``row`` into ``table``, or updates the row with the same ``key`` column; returns changed rows."""
        columns = list(row)
        updates = ', '.join(f'{column} = excluded.{column}' for column in columns if column != key)
        sql = (
            f'INSERT INTO {table} ({", ".join(columns)}) VALUES ({", ".join("?" for _ in columns)}) '
            f'ON CONFLICT ({key}) DO ' + (f'UPDATE SET {updates}' if updates else 'NOTHING')
        )
        return self.execute(sql, tuple(row.values()))

    def close(self) -> None:
        """Writes what the writer holds, then closes the connection; the object is unusable afterwards."""
        if self._writer is not None:
            self._writer.stop()
        self._close()

    def unreachable(self, error: Exception) -> bool:
        """Does ``error`` say the database could not be reached (or was busy), so the same write may work later?"""
        return False

    def public_reason(self, error: Exception) -> str:
        """Why ``error`` (one :meth:`unreachable` accepts) kept the database away, in words fit for any signed-in
        page: no address, no path."""
        return 'it does not answer'

    def ping(self) -> bool:
        """Can the database answer now, and do the queued writes go through? Never waits for the queued writes (a
        health check must not stall behind them); blocking: call it off the event loop."""
        if self._writer is not None and self._writer.failing is not None:
            return False
        try:
            self._query('SELECT 1', ())
        except Exception:  # whatever the backend raises, the answer is "down"; the reason stays in the writer's log
            return False
        return True

    @abstractmethod
    def _execute(self, sql: str, parameters: tuple[Any, ...]) -> int:
        """Runs one statement now; returns the number of changed rows."""

    @abstractmethod
    def _query(self, sql: str, parameters: tuple[Any, ...]) -> list[dict[str, Any]]:
        """Runs one query now; returns its rows as dicts."""

    @abstractmethod
    def _close(self) -> None:
        """Closes the connection."""


class DatabaseUnavailable(RuntimeError):
    """The configured database cannot be reached or set up; the message says which and why."""
