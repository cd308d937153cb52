"""Which containers a person may reach, on every page, handler and stream: a role granted a permission only on its own
things (a developer) reaches only the containers that carry its owner id. Anything else, named or by id, is refused
with a sentence and audited; to such a role a container that does not exist looks the same as somebody else's, so a
guessed name tells nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from nicegui import ui

from core.permissions import ANYWHERE, Forbidden, Identity, Permission, require
from core.state.containers import ContainerRow

from .links import on_host

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services


def reach_refusal(
    services: Services,
    identity: Identity,
    permission: Permission,
    what: str,
    rows: Iterable[ContainerRow | None],
    *,
    action: str,
    target: str,
) -> str:
    """'' when ``identity`` holds ``permission`` on every row's scope (a missing row, None, is for the caller to
    report when the identity could have reached it anyway); else the refusal as a sentence, audited."""
    for row in rows:
        try:
            require(identity, permission, what, row.scope if row is not None else ANYWHERE)
        except Forbidden as refusal:
            services.audit.record(
                username=identity.username,
                role=identity.role,
                action=action,
                target=target,
                params={'container_id': row.short_id} if row is not None else {},
                result=f'refused: {refusal}',
                address=identity.address,
                endpoint=row.endpoint if row is not None else ANYWHERE.endpoint,
            )
            return f'{refusal}.'  # it starts with the user's name, as it is
    return ''


def reachable_row(
    services: Services,
    identity: Identity,
    permission: Permission,
    what: str,
    name_or_id: str,
    endpoint: str,
    *,
    action: str,
) -> ContainerRow | None:
    """The container a page named (by name or id) when ``identity`` may reach it; otherwise None, after saying why on
    the page (and auditing a refusal)."""
    row = services.state.find(name_or_id, endpoint)
    refusal = reach_refusal(services, identity, permission, what, [row], action=action, target=name_or_id)
    if refusal:
        ui.label(refusal).classes('text-h6').props('role=alert')
    elif row is None:
        ui.label(f'No container named or with id "{name_or_id}"{on_host(endpoint)}.').classes('text-h6')
    return row if not refusal else None


def sentence(error: Exception | str) -> str:
    """An error as a sentence: a refusal starts with the user's name and keeps it as it is; anything else gets a
    capital. Both end with a full stop."""
    text = str(error)
    if not isinstance(error, Forbidden):
        text = f'{text[:1].upper()}{text[1:]}'
    return f'{text}.'
