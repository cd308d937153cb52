"""The panel's database: users, jobs, audit entries, saved registry credentials.

Embedded SQLite under ``BERTH_DATA_DIR`` by default; PostgreSQL when ``BERTH_DATABASE_URL`` is set
(see core/postgres.py). Callers write SQLite-flavoured SQL with ``?`` placeholders and use :meth:`Database.upsert`
instead of ``INSERT OR REPLACE``; both backends accept that."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .settings import Settings

# Both backends make the same tables; only these two types differ (see core/postgres.py for its triggers).
TABLES = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    password_hash TEXT,
    role TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'local',
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at {real} NOT NULL
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
    output TEXT NOT NULL DEFAULT ''
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
    address TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS registry_credentials (
    registry TEXT PRIMARY KEY,
    sealed TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    saved_at {real} NOT NULL
);
"""
SQLITE_SCHEMA = (
    TABLES.format(real='REAL', serial_id='INTEGER PRIMARY KEY AUTOINCREMENT')
    + """
CREATE TRIGGER IF NOT EXISTS audit_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
)


# (table, column, declaration) for every column added after the first release of a table
ADDED_COLUMNS = [('jobs', 'output', "TEXT NOT NULL DEFAULT ''")]


class Database:
    """A small thread-safe wrapper around SQLite: one connection, one lock, WAL journal.

    Also the interface every backend keeps: ``execute``, ``query``, ``upsert``, ``close``.
    """

    def __init__(self, path: Path | str) -> None:
        if str(path) != ':memory:':
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._connection.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._connection.execute('PRAGMA journal_mode=WAL')
            self._connection.executescript(SQLITE_SCHEMA)
            self._migrate()

    def _migrate(self) -> None:
        """Brings a database made by an earlier Berth up to this schema (columns added since, with their defaults)."""
        for table, column, declaration in ADDED_COLUMNS:
            existing = {row[1] for row in self._connection.execute(f'PRAGMA table_info({table})')}
            if column not in existing:
                self._connection.execute(f'ALTER TABLE {table} ADD COLUMN {column} {declaration}')

    def execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> int:
        """Runs one statement; returns the number of changed rows."""
        with self._lock:
            return self._connection.execute(sql, parameters).rowcount

    def query(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Runs one query; returns its rows as dicts."""
        with self._lock:
            return [dict(row) for row in self._connection.execute(sql, parameters).fetchall()]

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
        """Closes the connection; the object is unusable afterwards."""
        with self._lock:
            self._connection.close()


def make_database(settings: Settings) -> Database:
    """PostgreSQL when ``BERTH_DATABASE_URL`` is set, else the SQLite file in the data dir.

    Raises :class:`DatabaseUnavailable` with a sentence to print when the database cannot be reached.
    """
    if settings.database_url:
        from .postgres import PostgresDatabase

        return PostgresDatabase(settings.database_url)
    settings.ensure_data_dir()
    return Database(settings.database_path)


class DatabaseUnavailable(RuntimeError):
    """The configured database cannot be reached or set up; the message says which and why."""
