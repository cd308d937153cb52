"""Per-host roles admins edit in the page (``/admin/host-roles``), kept in the ``endpoint_roles`` table and merged with
``BERTH_OIDC_ENDPOINT_ROLES``: the setting wins for each (host, role) it names, which the page shows but cannot change.

Each row gives one role on one host to SSO groups and accounts (``user:<name>``). The merged table lives in memory:
every check (each request, socket event, keystroke) resolves a person's roles from it, so a save counts at that
person's next request; another panel's save arrives with the session sweep (:meth:`EndpointRoleTable.refresh`).
Blocking database work: call ``refresh``, ``save`` and ``delete`` off the event loop.
"""

from __future__ import annotations

import json
import threading
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from core.endpoint_roles import EndpointRoles
from core.errors import clip
from core.permissions import ROLES
from core.storage.database import Database

MAX_MEMBERS = 500
MAX_MEMBER_LENGTH = 200
SETTINGS, STORED = 'settings', 'stored'


class RoleRuleError(ValueError):
    """A row an admin cannot save as asked; ``str()`` is a sentence."""


@dataclass(kw_only=True, slots=True, frozen=True)
class RoleRule:
    """One role on one host, for these groups and accounts; where it comes from (settings, or this page)."""

    endpoint: str
    role: str
    members: tuple[str, ...]
    source: str = STORED
    updated_by: str = ''

    @property
    def key(self) -> str:
        return f'{self.endpoint}:{self.role}'


def parse_members(text: str) -> tuple[str, ...]:
    """Groups and ``user:<name>`` entries, one a line or separated by commas; a sentence for anything else."""
    members = list(dict.fromkeys(item.strip() for line in text.splitlines() for item in line.split(',')))
    members = [member for member in members if member]
    if not members:
        raise RoleRuleError('name at least one group, or an account as user:<name>')
    if len(members) > MAX_MEMBERS:
        raise RoleRuleError(f'at most {MAX_MEMBERS} groups and accounts per role')
    for member in members:
        if len(member) > MAX_MEMBER_LENGTH:
            raise RoleRuleError(f"'{member[:40]}…' is longer than {MAX_MEMBER_LENGTH} characters")
        if any(unicodedata.category(character).startswith(('C', 'Z')) and character != ' ' for character in member):
            raise RoleRuleError(f'{member!r} holds a control or separator character')
        if member == 'user:':
            raise RoleRuleError("'user:' names no account: write user:<name>")
    return tuple(members)


class EndpointRoleTable:
    """The merged per-host roles: what the settings name, then the rows of the page for the rest."""

    def __init__(self, database: Database | None, configured: EndpointRoles | None = None) -> None:
        self.database = database
        self.configured = configured or EndpointRoles()
        self._stored: list[RoleRule] = []
        self._merged = self._merge([])
        self._lock = threading.Lock()

    def resolve(self, username: str, role: str, groups: Iterable[str]) -> tuple[tuple[str, str], ...]:
        """(endpoint, role there) for each host the merged table lists (see :meth:`EndpointRoles.resolve`)."""
        return self._merged.resolve(username, role, groups)

    def rules(self) -> list[RoleRule]:
        """Every row, the settings' first, each host's roles in order."""
        configured = [
            RoleRule(endpoint=endpoint, role=role, members=tuple(sorted(members)), source=SETTINGS)
            for endpoint, roles in self.configured.table.items()
            for role, members in roles.items()
        ]
        return sorted([*configured, *self._stored], key=lambda rule: (rule.endpoint, ROLES.index(rule.role)))

    def refresh(self) -> None:
        """Reads the stored rows again (another panel may have changed them); blocking."""
        if self.database is None:
            return
        rows = self.database.query('SELECT endpoint, role, members, updated_by FROM endpoint_roles')
        stored = [
            RoleRule(
                endpoint=row['endpoint'],
                role=row['role'],
                members=tuple(json.loads(row['members'])),
                updated_by=row['updated_by'],
            )
            for row in rows
            if row['role'] in ROLES
        ]
        with self._lock:
            self._stored = stored
            self._merged = self._merge(stored)

    def save(self, endpoint: str, role: str, members: tuple[str, ...], by: str) -> None:
        """Stores the row (a new one, or the same host and role again); refused with a sentence for what the
        settings name."""
        if role not in ROLES:
            raise RoleRuleError(f'unknown role "{clip(role)}" (roles: {", ".join(ROLES)})')
        if self.configured_names(endpoint, role):
            raise RoleRuleError(
                f'the {role} role on host "{clip(endpoint)}" is set by BERTH_OIDC_ENDPOINT_ROLES: change it there'
            )
        if self.database is None:
            raise RoleRuleError('per-host roles cannot be stored here')
        self.database.upsert(
            'endpoint_roles',
            'rule',
            {
                'rule': f'{endpoint}:{role}',
                'endpoint': endpoint,
                'role': role,
                'members': json.dumps(list(members)),
                'updated_by': by,
                'updated_at': time.time(),
            },
        )
        self.refresh()

    def delete(self, endpoint: str, role: str) -> bool:
        if self.database is None:
            return False
        deleted = self.database.execute('DELETE FROM endpoint_roles WHERE rule = ?', (f'{endpoint}:{role}',)) > 0
        self.refresh()
        return deleted

    def configured_names(self, endpoint: str, role: str) -> bool:
        return role in self.configured.table.get(endpoint, {})

    def _merge(self, stored: list[RoleRule]) -> EndpointRoles:
        table: dict[str, dict[str, frozenset[str]]] = {}
        for rule in stored:
            table.setdefault(rule.endpoint, {})[rule.role] = frozenset(rule.members)
        for endpoint, roles in self.configured.table.items():  # the settings win for each (host, role) they name
            table.setdefault(endpoint, {}).update(roles)
        return EndpointRoles(table)
