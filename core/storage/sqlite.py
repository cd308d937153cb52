"""The embedded SQLite backend: one file under ``BERTH_DATA_DIR``, one connection, one lock, WAL journal."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from core.storage.database import ADDED_COLUMNS, TABLES, Database
from core.storage.errors import first_line

SQLITE_SCHEMA = (
    TABLES.format(real='REAL', serial_id='INTEGER PRIMARY KEY AUTOINCREMENT')
    + """
CREATE TRIGGER IF NOT EXISTS audit_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
)

# SQLITE_BUSY, _LOCKED, _NOMEM, _READONLY, _IOERR, _FULL, _CANTOPEN, _PROTOCOL (primary result codes)
UNREACHABLE_CODES = {5, 6, 7, 8, 10, 13, 14, 15}


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

    def _execute(self, sql: str, parameters: tuple[Any, ...]) -> int:
        with self._lock:
            return self._connection.execute(sql, parameters).rowcount

    def _query(self, sql: str, parameters: tuple[Any, ...]) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(row) for row in self._connection.execute(sql, parameters).fetchall()]

    def _close(self) -> None:
        with self._lock:
            self._connection.close()

    def public_reason(self, error: Exception) -> str:
        """SQLite's own words ('database or disk is full', 'database is locked'): they name no path."""
        return first_line(error)

    def unreachable(self, error: Exception) -> bool:
        """Busy, locked, out of disk, unreadable or read-only file: the same write may work later."""
        code = getattr(error, 'sqlite_errorcode', None)
        return isinstance(error, sqlite3.OperationalError) and code is not None and code & 0xFF in UNREACHABLE_CODES
