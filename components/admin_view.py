"""What every admin list page (templates, runtimes, quotas, hosts, per-host roles) does in each handler: check the
permission again when it runs — a refusal is a sentence on the page and an audit entry — and audit what it did."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import ui

from components.container_access import sentence
from core.permissions import LOCAL_ENDPOINT, Forbidden, Identity, Permission, require

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services


class AdminView:
    """A base for an admin page's view: ``permission`` and ``what`` (the refusal's words) name what it manages."""

    permission: Permission
    what: str

    def __init__(self, services: Services) -> None:
        self.services = services

    def _admin(self, action: str, target: str = '') -> Identity | None:
        """The person acting, when they still hold the permission; else None, with the refusal said and audited."""
        identity = self.services.sessions.current()
        try:
            return require(identity, self.permission, self.what)
        except Forbidden as refusal:
            self._audit(identity, action, target, f'refused: {refusal}')
            ui.notify(sentence(refusal), type='negative')
            return None

    def _audit(
        self, identity: Identity | None, action: str, target: str, result: str, params: dict[str, Any] | None = None
    ) -> None:
        self.services.audit.record(
            username=identity.username if identity else '(anonymous)',
            role=identity.role if identity else '',
            action=action,
            target=target,
            params=params,
            result=result,
            address=identity.address if identity else '',
            endpoint=self._audit_endpoint(target),
        )

    def _audit_endpoint(self, target: str) -> str:
        """The host an entry about ``target`` belongs to (the audit's Host column)."""
        return LOCAL_ENDPOINT
