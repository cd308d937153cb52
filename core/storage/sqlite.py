"""The embedded SQLite backend: one file under ``BERTH_DATA_DIR``, one connection, one lock, WAL journal."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from core.storage.database import ADDED_COLUMNS, TABLES, Database

SQLITE_SCHEMA = (
    TABLES.format(real='REAL', serial_id='INTEGER PRIMARY KEY AUTOINCREMENT')
    + """
CREATE TRIGGER IF NOT EXISTS audit_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
)


class SQLiteDatabase(Database):
    """A small thread-safe wrapper around SQLite: one connection, one lock, WAL journal."""

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

    def close(self) -> None:
        """Closes the connection; the object is unusable afterwards."""
        with self._lock:
            self._connection.close()
