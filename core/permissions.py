"""Roles and the one guard every page, handler, dispatch and stream open passes through."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ('viewer', 'operator', 'admin')


class Forbidden(Exception):
    """Raised when the signed-in user's role does not allow the action; the message is a sentence for them."""


@dataclass(kw_only=True, slots=True, frozen=True)
class Identity:
    username: str
    role: str
    address: str = ''

    def has(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def require(identity: Identity | None, role: str, what: str) -> Identity:
    """Returns the identity when it holds ``role``; raises :class:`Forbidden` with a sentence otherwise."""
    if identity is None:
        raise Forbidden(f'sign in to {what}')
    if role not in ROLES or identity.role not in ROLES:
        raise Forbidden(f'unknown role: cannot {what}')
    if not identity.has(role):
        raise Forbidden(f'{identity.username} is a {identity.role}: {what} needs the {role} role')
    return identity
