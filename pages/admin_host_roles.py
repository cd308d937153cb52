"""/admin/host-roles: per-host roles — a role on one host for SSO groups and accounts — list, add, edit, delete, for
admins (checked on load and in every handler), audited. Rows from ``BERTH_OIDC_ENDPOINT_ROLES`` are shown and win for
the host and role they name; they are changed in the settings. A change counts at each person's next request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import run, ui

from components.admin_view import AdminView
from components.container_access import sentence
from components.frame import frame, page_identity
from components.host_role_dialog import HostRoleDialog
from components.image_dialogs import AskingDialog
from core.endpoint_role_store import SETTINGS, RoleRule, RoleRuleError
from core.permissions import LOCAL_ENDPOINT, Permission

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

WHAT = 'manage per-host roles'
COLUMNS: list[dict[str, Any]] = [
    {'name': name, 'label': label, 'field': name, 'align': 'left'}
    for name, label in (
        ('endpoint', 'Host'),
        ('role', 'Role'),
        ('members_text', 'Groups and accounts'),
        ('source', 'Source'),
        ('actions', ''),
    )
]
# Vue interpolation only: group names come from the identity provider
ACTIONS_CELL = (
    '<q-td :props="props" class="text-right"><template v-if="props.row.editable">'
    '<q-btn flat round dense icon="edit" :aria-label="\'Edit \' + props.row.role + \' on \' + props.row.endpoint" '
    'title="Edit" @click="() => $parent.$emit(\'edit\', props.row.key)" />'
    '<q-btn flat round dense icon="delete" color="negative" '
    ':aria-label="\'Delete \' + props.row.role + \' on \' + props.row.endpoint" title="Delete" '
    '@click="() => $parent.$emit(\'delete\', props.row.key)" /></template></q-td>'
)
EXPLANATION = (
    'A role on one host for SSO groups and accounts (user:<name>). On a host listed here a person has the highest '
    'role listed for them there, and no role at all if none is (that host is then hidden from them); on other hosts '
    'their own role counts; admins stay admins everywhere. BERTH_OIDC_ENDPOINT_ROLES wins for each host and role it '
    "names. A change counts at each person's next click."
)


def register(services: Services) -> None:
    @ui.page('/admin/host-roles')
    def host_roles_page() -> None:
        identity = page_identity(services, Permission.USERS_MANAGE, WHAT)
        if identity is None:
            return
        with frame(services, identity, 'Per-host roles'):
            HostRolesView(services)


class HostRolesView(AdminView):
    permission = Permission.USERS_MANAGE
    what = WHAT

    def __init__(self, services: Services) -> None:
        self.services = services
        self.rules: dict[str, RoleRule] = {}
        with ui.row().classes('w-full items-center gap-3'):
            ui.label('Per-host roles').classes('text-h5')
            ui.space()
            ui.button('New role', icon='add', on_click=lambda: self.edit(None)).props('no-caps aria-label="New role"')
        ui.label(EXPLANATION).classes('text-caption')
        self.empty = ui.label('No per-host roles: everyone has their own role on every host.').classes('text-body2')
        self.table = ui.table(columns=COLUMNS, rows=[], row_key='key').props('flat bordered dense wrap-cells')
        self.table.classes('w-full')
        self.table.add_slot('body-cell-actions', ACTIONS_CELL)
        self.table.on('edit', lambda event: self.edit(str(event.args)))
        self.table.on('delete', lambda event: self.delete(str(event.args)))
        self.render()

    def render(self) -> None:
        rules = self.services.endpoint_roles.rules()
        self.rules = {rule.key: rule for rule in rules}
        self.table.rows = [_row(rule) for rule in rules]
        self.empty.set_visibility(not rules)

    async def edit(self, key: str | None) -> None:
        if self._admin('host_role.save', key or '') is None:
            return
        rule = self.rules.get(key) if key else None
        if rule is not None and rule.source == SETTINGS:
            ui.notify('That role comes from BERTH_OIDC_ENDPOINT_ROLES: change it there.', type='warning')
            return
        table = self.services.endpoint_roles

        async def save(endpoint: str, role: str, members: tuple[str, ...]) -> str | None:
            target = f'{endpoint}:{role}'
            admin = self._admin('host_role.save', target)
            if admin is None:
                return 'Only admins manage per-host roles.'
            if endpoint not in self.services.endpoints:
                return f'There is no host "{endpoint}".'
            if rule is None and target in self.rules and self.rules[target].source != SETTINGS:
                return f'The {role} role on host {endpoint} is listed already: edit it.'
            try:
                await run.io_bound(table.save, endpoint, role, members, admin.username)
            except RoleRuleError as error:
                self._audit(admin, 'host_role.save', target, f'refused: {error}', {'members': list(members)})
                return sentence(error)
            self._audit(admin, 'host_role.save', target, 'succeeded', {'new': rule is None, 'members': list(members)})
            return None

        if await HostRoleDialog(rule, self.services.endpoints.ids, save).ask():
            self.render()

    async def delete(self, key: str) -> None:
        rule = self.rules.get(key)
        if self._admin('host_role.delete', key) is None or rule is None or rule.source == SETTINGS:
            return
        if not await ConfirmDeleteRole(rule).ask():
            return
        admin = self._admin('host_role.delete', key)
        if admin is None:
            return
        deleted = await run.io_bound(self.services.endpoint_roles.delete, rule.endpoint, rule.role)
        self._audit(admin, 'host_role.delete', key, 'succeeded' if deleted else 'not found')
        self.render()

    def _audit_endpoint(self, target: str) -> str:
        endpoint = target.split(':', 1)[0]
        return endpoint if endpoint in self.services.endpoints else LOCAL_ENDPOINT


class ConfirmDeleteRole(AskingDialog):
    def __init__(self, rule: RoleRule) -> None:
        super().__init__()
        with self, ui.card().classes('gap-2').props('role=dialog aria-label="Delete role"'):
            ui.label(f'Delete the {rule.role} role on host {rule.endpoint}?').classes('text-h6 break-all')
            ui.label('Those it names have their own role there again from their next click.').classes('text-body2')
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                ui.button('Delete', color='negative', on_click=lambda: self.submit(True)).props(
                    'aria-label="Confirm delete"'
                )


def _row(rule: RoleRule) -> dict[str, Any]:
    return {
        'key': rule.key,
        'endpoint': rule.endpoint,
        'role': rule.role,
        'members': list(rule.members),
        'members_text': ', '.join(rule.members),
        'source': 'settings' if rule.source == SETTINGS else 'this page',
        'editable': rule.source != SETTINGS,
    }
