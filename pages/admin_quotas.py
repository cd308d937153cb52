"""/admin/quotas: the environment quotas of roles, SSO groups and accounts — list, create, edit, delete — for admins
(checked on load and in every handler), audited. CPUs and memory count the running environments only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import run, ui

from components.admin_view import AdminView
from components.frame import frame, page_identity
from components.image_dialogs import AskingDialog
from components.quota_dialog import APPLIES, QuotaDialog
from core.environments.quotas import QuotaRule, memory_words
from core.permissions import Permission

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

WHAT = 'manage quotas'
COLUMNS: list[dict[str, Any]] = [
    {'name': name, 'label': label, 'field': name, 'align': 'left'}
    for name, label in (
        ('applies', 'Applies to'),
        ('name', 'Name'),
        ('environments', 'Environments'),
        ('running', 'Running at once'),
        ('cpus', 'CPUs (running)'),
        ('memory', 'Memory (running)'),
        ('actions', ''),
    )
]
ACTIONS_CELL = (
    '<q-td :props="props" class="text-right">'
    '<q-btn flat round dense icon="edit" :aria-label="\'Edit quota of \' + props.row.name" title="Edit" '
    '@click="() => $parent.$emit(\'edit\', props.row.key)" />'
    '<q-btn flat round dense icon="delete" color="negative" :aria-label="\'Delete quota of \' + props.row.name" '
    'title="Delete" @click="() => $parent.$emit(\'delete\', props.row.key)" />'
    '</q-td>'
)
EXPLANATION = (
    "Limits on people's dev environments, checked when an environment is created or started. An account's own quota "
    "wins; for each limit it leaves blank, the most generous of its SSO groups' quotas that set it; then its role's. "
    'A limit no quota sets is not limited. CPUs and memory count the running environments only (their limits, as '
    'their templates set them).'
)


def register(services: Services) -> None:
    @ui.page('/admin/quotas')
    async def quotas_page() -> None:
        identity = page_identity(services, Permission.QUOTAS_MANAGE, WHAT)
        if identity is None:
            return
        with frame(services, identity, 'Quotas'):
            view = QuotasView(services)
        await view.render()


class QuotasView(AdminView):
    permission = Permission.QUOTAS_MANAGE
    what = WHAT

    def __init__(self, services: Services) -> None:
        self.services = services
        self.rules: dict[str, QuotaRule] = {}
        with ui.row().classes('w-full items-center gap-3'):
            ui.label('Environment quotas').classes('text-h5')
            ui.space()
            ui.button('New quota', icon='add', on_click=lambda: self.edit(None)).props('no-caps')
        ui.label(EXPLANATION).classes('text-caption')
        self.empty = ui.label('No quotas: nobody is limited.').classes('text-body2')
        self.table = ui.table(columns=COLUMNS, rows=[], row_key='key').props('flat bordered dense wrap-cells')
        self.table.classes('w-full')
        self.table.add_slot('body-cell-actions', ACTIONS_CELL)
        self.table.on('edit', lambda event: self.edit(str(event.args)))
        self.table.on('delete', lambda event: self.delete(str(event.args)))

    async def render(self) -> None:
        rules = await run.io_bound(self.services.quotas.all)
        if rules is None:  # the app is stopping
            return
        self.rules = {rule.key: rule for rule in rules}
        self.table.rows = [_row(rule) for rule in rules]
        self.empty.set_visibility(not rules)

    async def edit(self, key: str | None) -> None:
        if self._admin('quota.save', key or '') is None:
            return
        rule = self.rules.get(key) if key else None
        accounts = await run.io_bound(self.services.accounts.all) or []

        async def save(candidate: QuotaRule) -> str | None:
            admin = self._admin('quota.save', candidate.key)
            if admin is None:
                return 'Only admins manage quotas.'
            if rule is None and candidate.key in self.rules:
                return f'There is a quota for the {candidate.applies.value} {candidate.name} already: edit it.'
            await run.io_bound(self.services.quotas.save, candidate, admin.username)
            self._audit(admin, 'quota.save', candidate.key, 'succeeded', {'new': rule is None, **_limits(candidate)})
            return None

        if await QuotaDialog(rule, [account.username for account in accounts], save).ask():
            await self.render()

    async def delete(self, key: str) -> None:
        if self._admin('quota.delete', key) is None or key not in self.rules:
            return
        rule = self.rules[key]
        if not await ConfirmDeleteQuota(rule).ask():
            return
        admin = self._admin('quota.delete', key)
        if admin is None:
            return
        deleted = await run.io_bound(self.services.quotas.delete, rule.applies, rule.name)
        self._audit(admin, 'quota.delete', key, 'succeeded' if deleted else 'not found')
        await self.render()


class ConfirmDeleteQuota(AskingDialog):
    def __init__(self, rule: QuotaRule) -> None:
        super().__init__()
        with self, ui.card().classes('gap-2').props('role=dialog aria-label="Delete quota"'):
            ui.label(f'Delete the quota of the {rule.applies.value} {rule.name}?').classes('text-h6 break-all')
            ui.label('Running environments keep running; the next create or start counts without it.').classes(
                'text-body2'
            )
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                ui.button('Delete', color='negative', on_click=lambda: self.submit(True)).props(
                    'aria-label="Confirm delete"'
                ).mark('confirm-delete')


def _row(rule: QuotaRule) -> dict[str, Any]:
    limits = rule.limits
    return {
        'key': rule.key,
        'applies': APPLIES[rule.applies.value],
        'name': rule.name,
        'environments': _or_any(limits.environments),
        'running': _or_any(limits.running),
        'cpus': _or_any(limits.cpus),
        'memory': memory_words(limits.memory) if limits.memory is not None else 'any',
    }


def _limits(rule: QuotaRule) -> dict[str, Any]:
    return {key: value for key, value in rule.limits.to_dict().items() if value is not None}


def _or_any(value: float | None) -> str:
    return 'any' if value is None else f'{value:g}'
