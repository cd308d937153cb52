"""The audit log: every mutating action, who, role, what, on what, with which parameters, result, from where."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from core.permissions import LOCAL_ENDPOINT
from core.storage.database import Database


@dataclass(kw_only=True, slots=True)
class AuditEntry:
    at: float
    username: str
    role: str
    action: str
    target: str
    params: str
    result: str
    address: str
    endpoint: str  # the Docker endpoint the action was about ('local' for the panel's own engine)


class AuditLog:
    """Append-only from the app (the database refuses updates and deletes)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def record(
        self,
        *,
        username: str,
        role: str,
        action: str,
        target: str,
        params: dict[str, Any] | None = None,
        result: str,
        address: str = '',
        endpoint: str = LOCAL_ENDPOINT,
    ) -> None:
        """Queues the entry for the database writer (core/storage/writer.py); :meth:`entries` sees it."""
        summary = json.dumps(params or {}, sort_keys=True, default=str)[:1000]
        self.database.writer.execute(
            'INSERT INTO audit (at, username, role, action, target, params, result, address, endpoint) '
            'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
            (time.time(), username, role, action, target, summary, result[:1000], address, endpoint),
            what=f'the audit entry {action} {target} by {username or "(nobody)"}',
        )

    def entries(self, *, limit: int = 200, username: str | None = None, action: str | None = None) -> list[AuditEntry]:
        clauses, parameters = [], []
        if username:
            clauses.append('username = ?')
            parameters.append(username)
        if action:
            clauses.append('action LIKE ?')
            parameters.append(f'{action}%')
        where = f'WHERE {" AND ".join(clauses)}' if clauses else ''
        rows = self.database.query(f'SELECT * FROM audit {where} ORDER BY id DESC LIMIT ?', (*parameters, limit))
        return [AuditEntry(**{key: row[key] for key in AuditEntry.__dataclass_fields__}) for row in rows]
