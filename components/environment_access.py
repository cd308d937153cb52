"""EnvironmentAccess: which environment values one person may see on a detail page, and the audited reveal.

Viewers see names only; operators and admins see values, with secret-looking ones masked until they press
"Reveal secret values" (checked on the server again, and audited); values of Berth's own containers are the
admins' alone. The readable view and the raw JSON both go through :meth:`redact`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from nicegui import ui

from core.permissions import Forbidden, Identity, Permission, require
from core.redaction import has_secrets, redact_inspect

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services


class EnvironmentAccess:
    def __init__(
        self, services: Services, identity: Identity, *, action: str, target: str, admin_only: bool = False
    ) -> None:
        self.services = services
        self.action = action  # audit action of a reveal: 'container.reveal_env', 'image.reveal_env'
        self.target = target
        self.admin_only = admin_only  # Berth's own container: values for admins only
        self.values = identity.can(Permission.BERTH_INTERNALS if admin_only else Permission.CONTAINER_ENV)
        self.revealed = False

    def redact(self, data: dict[str, Any]) -> dict[str, Any]:
        """Inspect data as this person may see it now."""
        return redact_inspect(data, values=self.values, reveal=self.revealed)

    def explain(self, data: dict[str, Any], on_reveal: Callable[[], Awaitable[None] | None]) -> None:
        """Under the environment section: why values are hidden, or the Reveal button (when there is a secret)."""
        env = (data.get('Config') or {}).get('Env') or []
        if not self.values:
            ui.label(
                'Values are hidden: '
                + (
                    "only admins see the environment of Berth's own containers."
                    if self.admin_only
                    else 'viewers see the names only.'
                )
            ).classes('text-caption')
        elif has_secrets(env) and not self.revealed:

            async def reveal() -> None:
                if self.reveal():
                    result = on_reveal()
                    if result is not None:
                        await result

            ui.button('Reveal secret values', icon='visibility', on_click=reveal).props('flat dense no-caps')

    def reveal(self) -> bool:
        """Shows the masked values from now on, after checking the role again; audited either way."""
        identity = self.services.sessions.current()
        try:
            identity = require(
                identity,
                Permission.BERTH_INTERNALS if self.admin_only else Permission.CONTAINER_SECRETS,
                'reveal secret values',
            )
        except Forbidden as refusal:
            self._audit(identity, f'refused: {refusal}')
            ui.notify(f'{str(refusal)[:1].upper()}{str(refusal)[1:]}.', type='negative')
            return False
        self._audit(identity, 'revealed')
        self.revealed = True
        return True

    def _audit(self, identity: Identity | None, result: str) -> None:
        self.services.audit.record(
            username=identity.username if identity else '(anonymous)',
            role=identity.role if identity else '',
            action=self.action,
            target=self.target,
            params={},
            result=result,
            address=identity.address if identity else '',
        )
