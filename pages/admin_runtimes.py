"""/admin/runtimes: the sandbox runtimes — list, create, edit, delete — for admins (checked on load and in every
handler), audited. Runtimes from runtimes.yaml are marked as such: the file wins again at every start."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import run, ui

from components.admin_view import AdminView
from components.frame import frame, page_identity
from components.image_dialogs import AskingDialog
from components.runtime_form import RuntimeDialog
from core.permissions import Permission
from core.sandbox.runtimes import Runtime

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

WHAT = 'manage runtimes'
COLUMNS: list[dict[str, Any]] = [
    {'name': name, 'label': label, 'field': name, 'align': 'left', 'sortable': name in ('name', 'image', 'source')}
    for name, label in (
        ('name', 'Name'),
        ('image', 'Image'),
        ('command', 'Command'),
        ('limits', 'Limits'),
        ('user', 'User'),
        ('source', 'Source'),
        ('refusals', 'Refused'),
        ('actions', ''),
    )
]
ACTIONS_CELL = (
    '<q-td :props="props" class="text-right">'
    '<q-btn flat round dense icon="edit" :aria-label="\'Edit \' + props.row.name" title="Edit" '
    '@click="() => $parent.$emit(\'edit\', props.row.name)" />'
    '<q-btn flat round dense icon="delete" color="negative" :aria-label="\'Delete \' + props.row.name" title="Delete" '
    '@click="() => $parent.$emit(\'delete\', props.row.name)" />'
    '</q-td>'
)


def register(services: Services) -> None:
    @ui.page('/admin/runtimes')
    async def runtimes_page() -> None:
        identity = page_identity(services, Permission.RUNTIMES_MANAGE, WHAT)
        if identity is None:
            return
        with frame(services, identity, 'Runtimes'):
            view = RuntimesView(services)
        await view.render()


class RuntimesView(AdminView):
    permission = Permission.RUNTIMES_MANAGE
    what = WHAT

    def __init__(self, services: Services) -> None:
        self.services = services
        self.runtimes: dict[str, Runtime] = {}
        with ui.row().classes('w-full items-center gap-3'):
            ui.label('Sandbox runtimes').classes('text-h5')
            ui.space()
            ui.button('New runtime', icon='add', on_click=lambda: self.edit(None)).props('no-caps')
        isolation = services.sandbox.isolation or "the engine's default runtime"
        ui.label(
            'What people run scripts in (/run). Every run gets a new container with no network, a read-only root, '
            f'no capabilities and a non-root user, isolated by {isolation}; the limits below may be tightened, or '
            'loosened up to their hard ceilings.'
        ).classes('text-caption')
        self.table = ui.table(columns=COLUMNS, rows=[], row_key='name').props('flat bordered dense wrap-cells')
        self.table.classes('w-full')
        self.table.add_slot('body-cell-actions', ACTIONS_CELL)
        self.table.on('edit', lambda event: self.edit(str(event.args)))
        self.table.on('delete', lambda event: self.delete(str(event.args)))

    async def render(self) -> None:
        runtimes = await run.io_bound(self.services.sandbox.runtimes.all)
        if runtimes is None:  # the app is stopping
            return
        self.runtimes = {runtime.name: runtime for runtime in runtimes}
        self.table.rows = [_row(runtime) for runtime in runtimes]

    async def edit(self, name: str | None) -> None:
        if self._admin('runtime.save', name or '') is None:
            return
        runtime = self.runtimes.get(name) if name else None

        async def save(candidate: Runtime) -> str | None:
            admin = self._admin('runtime.save', candidate.name)
            if admin is None:
                return 'Only admins manage runtimes.'
            store = self.services.sandbox.runtimes
            if runtime is None and await run.io_bound(store.get, candidate.name) is not None:
                return f'There is already a runtime named {candidate.name}.'
            await run.io_bound(store.save, candidate, admin.username)
            params = {'new': runtime is None, **candidate.to_dict()}
            self._audit(admin, 'runtime.save', candidate.name, 'succeeded', params)
            return None

        if await RuntimeDialog(runtime, save).ask():
            await self.render()

    async def delete(self, name: str) -> None:
        if self._admin('runtime.delete', name) is None:
            return
        if not await ConfirmDeleteRuntime(name).ask():
            return
        admin = self._admin('runtime.delete', name)
        if admin is None:
            return
        deleted = await run.io_bound(self.services.sandbox.runtimes.delete, name)
        self._audit(admin, 'runtime.delete', name, 'succeeded' if deleted else 'not found')
        await self.render()


class ConfirmDeleteRuntime(AskingDialog):
    def __init__(self, name: str) -> None:
        super().__init__()
        with self, ui.card().classes('gap-2').props('role=dialog aria-label="Delete runtime"'):
            ui.label(f'Delete the runtime {name}?').classes('text-h6 break-all')
            ui.label('Runs already queued keep it; no new runs can use it.').classes('text-body2')
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                ui.button('Delete', color='negative', on_click=lambda: self.submit(True)).props(
                    'aria-label="Confirm delete"'
                ).mark('confirm-delete')


def _row(runtime: Runtime) -> dict[str, Any]:
    return {
        'name': runtime.name,
        'image': runtime.image,
        'command': ' '.join(runtime.command),
        'limits': runtime.limits.summary(),
        'user': runtime.user,
        'source': 'runtimes.yaml' if runtime.source == 'file' else 'page',
        'refusals': '; '.join(runtime.refusals()) or '—',
    }
