"""The database (SQLite by default, PostgreSQL), the audit log, encrypted credentials."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.storage.database import Database
from core.storage.postgres import PostgresDatabase
from core.storage.sqlite import SQLiteDatabase

if TYPE_CHECKING:
    from core.settings import Settings


def make_database(settings: Settings) -> Database:
    """PostgreSQL when ``BERTH_DATABASE_URL`` is set, else the SQLite file in the data dir.

    Raises :class:`DatabaseUnavailable` with a sentence to print when the database cannot be reached.
    """
    if settings.database_url:
        return PostgresDatabase(settings.database_url)
    settings.ensure_data_dir()
    return SQLiteDatabase(settings.database_path)
