"""Per-host roles: ``BERTH_OIDC_ENDPOINT_ROLES`` gives a group (or one account) a role on one endpoint, so a team can
be operator on one host and viewer on another.

The setting is JSON: endpoint id → role → the SSO groups (or ``user:<username>`` for one account, local ones too) that
have that role there, e.g. ``{"b": {"operator": ["ops-b"], "viewer": ["developers", "user:olga"]}}``. On an endpoint it
lists, a person has the highest role its groups have there, and no role at all when none of them is listed (that host
is then hidden from them); on every other endpoint the person's own role counts. Admins stay admins everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Protocol

from core.errors import clip
from core.permissions import ROLES, Role

USER_PREFIX = 'user:'


class RoleResolver(Protocol):
    """What the sessions ask on every check: the roles a person has on particular hosts."""

    def resolve(self, username: str, role: str, groups: Iterable[str]) -> tuple[tuple[str, str], ...]: ...

    def refresh(self) -> None:
        """Reads what may have changed elsewhere (blocking)."""


class EndpointRolesError(ValueError):
    """A bad ``BERTH_OIDC_ENDPOINT_ROLES``; ``str()`` is a sentence."""


class EndpointRoles:
    def __init__(self, table: Mapping[str, Mapping[str, Iterable[str]]] | None = None) -> None:
        self.table = {
            endpoint: {role: frozenset(members) for role, members in roles.items()}
            for endpoint, roles in (table or {}).items()
        }

    @classmethod
    def parse(cls, text: str) -> EndpointRoles:
        if not text.strip():
            return cls()
        try:
            data = json.loads(text)
        except ValueError as error:
            raise EndpointRolesError(f'BERTH_OIDC_ENDPOINT_ROLES is not valid JSON ({error})') from None
        if not isinstance(data, dict):
            raise EndpointRolesError('BERTH_OIDC_ENDPOINT_ROLES must be an object: endpoint id → role → groups')
        for endpoint, roles in data.items():
            if not isinstance(roles, dict):
                raise EndpointRolesError(
                    f'BERTH_OIDC_ENDPOINT_ROLES["{clip(endpoint)}"] must map roles to lists of groups'
                )
            for role, members in roles.items():
                if role not in ROLES:
                    raise EndpointRolesError(
                        f'BERTH_OIDC_ENDPOINT_ROLES["{clip(endpoint)}"]: unknown role "{clip(role)}" '
                        f'(roles: {", ".join(ROLES)})'
                    )
                if not isinstance(members, list) or not all(isinstance(member, str) for member in members):
                    raise EndpointRolesError(
                        f'BERTH_OIDC_ENDPOINT_ROLES["{clip(endpoint)}"]["{clip(role)}"] must be a list of group names'
                    )
        return cls(data)

    def __bool__(self) -> bool:
        return bool(self.table)

    def refresh(self) -> None:
        """A fixed table: nothing to read again."""

    def resolve(self, username: str, role: str, groups: Iterable[str]) -> tuple[tuple[str, str], ...]:
        """(endpoint, role there) for each listed endpoint; '' where the person has no role."""
        if role == Role.ADMIN or not self.table:
            return ()
        mine = {*groups, f'{USER_PREFIX}{username}'}
        resolved = []
        for endpoint, roles in self.table.items():
            granted = [candidate for candidate, members in roles.items() if members & mine]
            resolved.append((endpoint, max(granted, key=ROLES.index) if granted else ''))
        return tuple(resolved)
