"""The PostgreSQL backend (``BERTH_DATABASE_URL=postgresql://user:password@host:port/database``).

The same tables as the SQLite file, and the same interface: callers keep their ``?`` placeholders, which are
translated to psycopg's ``%s`` here. One autocommit connection behind a lock, like the SQLite backend; when the
server drops it (a restart), the next statement connects again.
"""

from __future__ import annotations

import re
import threading
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.rows import dict_row

from core.storage.database import ADDED_COLUMNS, TABLES, Database, DatabaseUnavailable

SCHEMA = (
    TABLES.format(real='DOUBLE PRECISION', serial_id='BIGSERIAL PRIMARY KEY')
    + """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'audit_append_only' AND tgrelid = 'audit'::regclass) THEN
        CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
            FOR EACH ROW EXECUTE FUNCTION audit_append_only();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'audit_no_truncate' AND tgrelid = 'audit'::regclass) THEN
        CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
            FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
    END IF;
END $$;
"""
)

# a single-quoted literal (left alone), a '?' placeholder, or a '%' that psycopg would read as one
_TOKEN = re.compile(r"'(?:[^']|'')*'|\?|%")


def translate(sql: str) -> str:
    """SQLite-style ``?`` placeholders to psycopg's ``%s``, every literal ``%`` doubled (psycopg parses them even in
    quoted strings); a ``?`` inside a quoted string stays."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        return '%s' if token == '?' else token.replace('%', '%%')

    return _TOKEN.sub(replace, sql)


def redacted(url: str) -> str:
    """The URL without its password, fit for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f':{parts.password}@', ':***@', 1)
    return urlunsplit(parts._replace(netloc=netloc))


class PostgresDatabase(Database):
    """:class:`Database` on PostgreSQL: one autocommit connection, one lock; the schema is made if missing."""

    def __init__(self, url: str) -> None:  # the SQLite constructor does not apply: no super().__init__()
        self.url = url
        self._lock = threading.Lock()
        self._closed = False  # by close(): no reconnecting then
        try:
            self._postgres = psycopg.connect(url, autocommit=True, row_factory=dict_row, connect_timeout=10)
        except psycopg.Error as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise DatabaseUnavailable(
                f'Berth cannot reach the PostgreSQL database at {redacted(url)} (BERTH_DATABASE_URL): {reason}'
            ) from None
        try:
            with self._lock:
                self._postgres.execute(SCHEMA.encode())  # bytes: no placeholder parsing, several statements
                self._migrate()
        except psycopg.Error as error:
            self._postgres.close()
            raise DatabaseUnavailable(
                f'Berth cannot set up its tables in the PostgreSQL database at '
                f'{redacted(url)} (BERTH_DATABASE_URL): {error}'
            ) from None

    def _migrate(self) -> None:
        """Adds the columns an earlier Berth's tables lack (see ``ADDED_COLUMNS``)."""
        for table, column, declaration in ADDED_COLUMNS:
            rows = self._postgres.execute(
                'SELECT 1 FROM information_schema.columns '
                'WHERE table_schema = current_schema() AND table_name = %s AND column_name = %s',
                (table, column),
            ).fetchall()
            if not rows:
                self._postgres.execute(f'ALTER TABLE {table} ADD COLUMN {column} {declaration}'.encode())

    def _execute(self, sql: str, parameters: tuple[Any, ...]) -> int:
        with self._lock:
            return self._connection().execute(translate(sql).encode(), parameters).rowcount

    def _query(self, sql: str, parameters: tuple[Any, ...]) -> list[dict[str, Any]]:
        with self._lock:
            try:
                return list(self._connection().execute(translate(sql).encode(), parameters).fetchall())
            except (psycopg.OperationalError, psycopg.InterfaceError):
                if self._closed or not self._postgres.closed:
                    raise
            # the server dropped the connection (a restart) and said so only now: a read is safe to ask again, on a
            # new connection, so the first page after a restart does not fail
            return list(self._connection().execute(translate(sql).encode(), parameters).fetchall())

    def _close(self) -> None:
        with self._lock:
            self._closed = True
            self._postgres.close()

    def public_reason(self, error: Exception) -> str:
        """psycopg's words name the server's address: pages get this instead (the log has them)."""
        return 'the PostgreSQL server does not answer'

    def unreachable(self, error: Exception) -> bool:
        """The server went away, refused the connection or cancelled the statement: the same write may work later."""
        return isinstance(error, (psycopg.OperationalError, psycopg.InterfaceError)) and not self._closed

    def _connection(self) -> psycopg.Connection[dict[str, Any]]:
        """The connection; a new one when the server dropped the last (a restart), so the panel carries on."""
        if self._postgres.closed and not self._closed:
            self._postgres = psycopg.connect(self.url, autocommit=True, row_factory=dict_row, connect_timeout=10)
        return self._postgres
