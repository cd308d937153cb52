"""/admin/users and /admin/audit: accounts and the audit log, admins only (checked on load and in every handler)."""

from __future__ import annotations

import csv
import io
import json
import secrets
import time
from typing import TYPE_CHECKING, Any

from nicegui import run, ui

from auth.accounts import username_problem
from components.frame import frame, page_identity
from core.permissions import ROLES, Forbidden, Identity, Permission, require

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

USER_COLUMNS: list[dict[str, Any]] = [
    {'name': 'username', 'label': 'Username', 'field': 'username', 'sortable': True, 'align': 'left'},
    {'name': 'role', 'label': 'Role', 'field': 'role', 'sortable': True, 'align': 'left'},
    {'name': 'source', 'label': 'Source', 'field': 'source', 'sortable': True, 'align': 'left'},
    {'name': 'status', 'label': 'Status', 'field': 'status', 'sortable': True, 'align': 'left'},
]
AUDIT_COLUMNS: list[dict[str, Any]] = [
    {'name': name, 'label': name.capitalize(), 'field': name, 'align': 'left', 'sortable': name in ('when', 'username')}
    for name in ('when', 'username', 'role', 'action', 'target', 'params', 'result', 'address')
] + [{'name': 'endpoint', 'label': 'Host', 'field': 'endpoint', 'align': 'left', 'sortable': True}]
# a terminal session's entries link to its recording (the id is the panel's own; the path prefix is fixed)
RESULT_CELL = (
    '<q-td :props="props">{{ props.row.result }}<a v-if="props.row.recording" '
    ':href="\'/recordings/\' + encodeURIComponent(props.row.recording)" class="text-primary q-ml-sm">'
    'Replay</a></q-td>'
)


def register(services: Services) -> None:
    @ui.page('/admin/users')
    def users_page() -> None:
        identity = page_identity(services, Permission.USERS_MANAGE, 'manage users')
        if identity is not None:
            with frame(services, identity, 'Users'):
                UsersView(services)

    @ui.page('/admin/audit')
    async def audit_page() -> None:
        identity = page_identity(services, Permission.AUDIT_READ, 'read the audit log')
        if identity is not None:
            with frame(services, identity, 'Audit log'):
                view = AuditView(services)
            await view.render()


class UsersView:
    def __init__(self, services: Services) -> None:
        self.services = services
        ui.label('Users').classes('text-h5')
        with ui.card().classes('w-full'):
            ui.label('New local account').classes('text-subtitle1')
            with ui.row().classes('items-end gap-2'):
                self.new_name = ui.input('New username').props('dense outlined')
                self.new_role = ui.select(list(ROLES), value='viewer', label='New role').props('dense outlined')
                ui.button('Create user', icon='person_add', on_click=self.create)
        self.table = (
            ui.table(columns=USER_COLUMNS, rows=[], row_key='username', selection='single')
            .props('flat bordered dense')
            .classes('w-full')
        )
        with ui.row().classes('gap-2'):
            self.role = ui.select(list(ROLES), value='viewer', label='Role for selected').props('dense outlined')
            ui.button('Set role', on_click=self.set_role)
            ui.button('Reset password', on_click=self.reset_password)
            ui.button('Disable', color='negative', on_click=lambda: self.set_disabled(True))
            ui.button('Enable', on_click=lambda: self.set_disabled(False))
        self.secret = ui.label().classes('font-mono').props('role=status')
        self.render()

    def render(self) -> None:
        self.table.rows = [
            {
                'username': account.username,
                'role': account.role,
                'source': account.source,
                'status': 'disabled' if account.disabled else 'active',
            }
            for account in self.services.accounts.all()
        ]

    def _admin(self, what: str) -> Identity | None:
        try:
            return require(self.services.sessions.current(), Permission.USERS_MANAGE, what)
        except Forbidden as refusal:
            ui.notify(f'{refusal}.', type='negative')
            return None

    def _selected(self) -> str | None:
        if not self.table.selected:
            ui.notify('Select a user first.', type='info')
            return None
        return str(self.table.selected[0]['username'])

    def _audit(self, admin: Identity, action: str, target: str, params: dict[str, Any] | None = None) -> None:
        self.services.audit.record(
            username=admin.username,
            role=admin.role,
            action=action,
            target=target,
            params=params,
            result='succeeded',
            address=admin.address,
        )

    async def create(self) -> None:
        admin = self._admin('create users')
        name = (self.new_name.value or '').strip()
        if admin is None:
            return
        problem = username_problem(name)
        if problem:
            ui.notify(problem, type='warning')
            return
        if self.services.accounts.get(name) is not None:
            ui.notify(f'There is already a user named {name}.', type='warning')
            return
        password, role = secrets.token_urlsafe(12), self.new_role.value
        await self.services.accounts.off_loop(self.services.accounts.create, name, password, role)
        self._audit(admin, 'user.create', name, {'role': role})
        self.secret.text = f'Password for {name} (shown once): {password}'
        self.render()

    def set_role(self) -> None:
        admin, name = self._admin('change roles'), self._selected()
        if admin is None or name is None:
            return
        self.services.accounts.set_role(name, self.role.value)
        self._audit(admin, 'user.role', name, {'role': self.role.value})
        self.render()
        self.services.sessions.close_pages_of(name)  # their open pages (maybe this one) reopen with the new role

    async def reset_password(self) -> None:
        admin, name = self._admin('reset passwords'), self._selected()
        if admin is None or name is None:
            return
        account = self.services.accounts.get(name)
        if account is None or account.source != 'local':
            ui.notify(f'{name} signs in with single sign-on; there is no password to reset.', type='warning')
            return
        password = secrets.token_urlsafe(12)
        await self.services.accounts.off_loop(self.services.accounts.set_password, name, password)
        self._audit(admin, 'user.password_reset', name)
        self.secret.text = f'New password for {name} (shown once): {password}'

    def set_disabled(self, disabled: bool) -> None:
        admin, name = self._admin('disable accounts'), self._selected()
        if admin is None or name is None:
            return
        if disabled and name == admin.username:
            ui.notify('You cannot disable your own account.', type='warning')
            return
        self.services.accounts.set_disabled(name, disabled)
        self._audit(admin, 'user.disable' if disabled else 'user.enable', name)
        self.render()
        if disabled:
            self.services.sessions.close_pages_of(name)


class AuditView:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._reads = 0
        ui.label('Audit log').classes('text-h5')
        with ui.row().classes('items-end gap-2'):
            self.username = ui.input('User', on_change=self.render).props('dense outlined clearable')
            self.action = ui.input('Action starts with', on_change=self.render).props('dense outlined clearable')
            ui.button('Export CSV', icon='download', on_click=self.export)
        self.table = (
            ui.table(columns=AUDIT_COLUMNS, rows=[], row_key='id', pagination={'rowsPerPage': 50})
            .props('flat bordered dense wrap-cells')
            .classes('w-full')
        )
        self.table.add_slot('body-cell-result', RESULT_CELL)

    def rows(self, limit: int = 1000) -> list[dict[str, Any]]:
        entries = self.services.audit.entries(
            limit=limit,
            username=(self.username.value or '').strip() or None,
            action=(self.action.value or '').strip() or None,
        )
        return [
            {
                'id': index,
                'when': time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(entry.at)),
                'username': entry.username,
                'role': entry.role,
                'action': entry.action,
                'target': entry.target,
                'params': entry.params,
                'recording': _recording_of(entry.params),
                'result': entry.result,
                'address': entry.address,
                'endpoint': entry.endpoint,
            }
            for index, entry in enumerate(entries)
        ]

    async def render(self) -> None:
        """Reads the entries off the loop (each filter keystroke asks); a newer read wins over an older one."""
        identity = self.services.sessions.current()
        if identity is None or not identity.can(Permission.AUDIT_READ):
            return
        self._reads += 1
        read = self._reads
        rows = await run.io_bound(self.rows)
        if rows is not None and read == self._reads:
            self.table.rows = rows

    def export(self) -> None:
        try:
            admin = require(self.services.sessions.current(), Permission.AUDIT_READ, 'export the audit log')
        except Forbidden as refusal:
            ui.notify(f'{refusal}.', type='negative')
            return
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=[column['name'] for column in AUDIT_COLUMNS], extrasaction='ignore')
        writer.writeheader()
        writer.writerows({key: _csv_cell(value) for key, value in row.items()} for row in self.rows(limit=100_000))
        self.services.audit.record(
            username=admin.username,
            role=admin.role,
            action='audit.export',
            target='audit',
            result='succeeded',
            address=admin.address,
        )
        ui.download.content(buffer.getvalue().encode(), 'berth-audit.csv', 'text/csv')


def _recording_of(params: str) -> str:
    """The recording a terminal session's entry names ('' for every other entry)."""
    if '"recording"' not in params:
        return ''
    try:
        return str(json.loads(params).get('recording') or '')
    except (ValueError, AttributeError):
        return ''


def _csv_cell(value: Any) -> Any:
    """Container names and labels reach the audit log: keep spreadsheet formulas from running when it is opened."""
    return f"'{value}" if isinstance(value, str) and value[:1] in ('=', '+', '-', '@', '\t', '\r') else value
