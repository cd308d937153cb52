"""HostRoleDialog: one role on one host for SSO groups and accounts (``user:<name>``), a sentence for what is off."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from nicegui import ui

from core.endpoint_role_store import RoleRule, RoleRuleError, parse_members
from core.permissions import ROLES

from .image_dialogs import AskingDialog

OnSave = Callable[[str, str, tuple[str, ...]], Awaitable[str | None]]  # (host, role, members) → None, or a sentence


class HostRoleDialog(AskingDialog):
    """Answers True once ``on_save`` accepted the row; editing keeps the host and role (a new row for others)."""

    def __init__(self, rule: RoleRule | None, hosts: Sequence[str], on_save: OnSave) -> None:
        super().__init__()
        self.on_save = on_save
        title = f'Edit the {rule.role} role on host {rule.endpoint}' if rule else 'New per-host role'
        with self, ui.card().classes('gap-1 w-[32rem] max-w-full').props(f'role=dialog aria-label="{title}"'):
            ui.label(title).classes('text-h6 break-all')
            self.host = ui.select(list(hosts), label='Host', value=rule.endpoint if rule else None)
            self.role = ui.select(list(ROLES), label='Role', value=rule.role if rule else 'viewer')
            for element, label in ((self.host, 'Host'), (self.role, 'Role')):
                element.props(f'aria-label="{label}" outlined dense').classes('w-full').mark(f'role-{label.lower()}')
            self.members = (
                ui.textarea(
                    'Groups and accounts',
                    placeholder='build-team\nuser:olga',
                    value='\n'.join(rule.members) if rule else '',
                )
                .props('aria-label="Groups and accounts" outlined dense')
                .classes('w-full')
                .mark('role-members')
            )
            ui.label(
                'One a line: an SSO group, or user:<name> for one account (local ones too). On a host listed here, '
                'a person has the highest role listed for them, and none if they are not listed.'
            ).classes('text-caption')
            self.error = ui.label().classes('text-negative').props('role=alert')
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                ui.button('Save', on_click=self._save).props('aria-label="Save role"').mark('save-role')
        if rule is not None:
            self.host.disable()
            self.role.disable()

    async def _save(self) -> None:
        self.error.text = ''
        if not self.host.value:
            self.error.text = 'Choose a host.'
            return
        try:
            members = parse_members(str(self.members.value or ''))
        except RoleRuleError as error:
            self.error.text = f'{str(error)[:1].upper()}{str(error)[1:]}.'
            return
        problem = await self.on_save(str(self.host.value), str(self.role.value), members)
        if problem:
            self.error.text = problem
            return
        self.submit(True)
