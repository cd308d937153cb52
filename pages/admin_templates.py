"""/admin/templates: the environment templates — list, create, edit, delete — for admins (checked on load and in every
handler), audited. Templates from templates.yaml are marked as such: the file wins again at every start."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import run, ui

from components.admin_view import AdminView
from components.frame import frame, page_identity
from components.image_dialogs import AskingDialog
from components.template_form import TemplateDialog, memory_text
from core.environments.templates import Template
from core.permissions import Permission

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

WHAT = 'manage templates'
COLUMNS: list[dict[str, Any]] = [
    {'name': name, 'label': label, 'field': name, 'align': 'left', 'sortable': name in ('name', 'image', 'source')}
    for name, label in (
        ('name', 'Name'),
        ('image', 'Image'),
        ('home', 'Home'),
        ('limits', 'Limits'),
        ('idle', 'Idle stop'),
        ('groups', 'Groups'),
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
    @ui.page('/admin/templates')
    async def templates_page() -> None:
        identity = page_identity(services, Permission.TEMPLATES_MANAGE, WHAT)
        if identity is None:
            return
        with frame(services, identity, 'Templates'):
            view = TemplatesView(services)
        await view.render()


class TemplatesView(AdminView):
    permission = Permission.TEMPLATES_MANAGE
    what = WHAT

    def __init__(self, services: Services) -> None:
        self.services = services
        self.templates: dict[str, Template] = {}
        with ui.row().classes('w-full items-center gap-3'):
            ui.label('Environment templates').classes('text-h5')
            ui.space()
            ui.button('New template', icon='add', on_click=lambda: self.edit(None)).props('no-caps')
        ui.label(
            "What people create their dev environments from. Every body is checked as an operator's request: no "
            'privileged mode, host paths, host namespaces, devices or added capabilities.'
        ).classes('text-caption')
        self.table = ui.table(columns=COLUMNS, rows=[], row_key='name').props('flat bordered dense wrap-cells')
        self.table.classes('w-full')
        self.table.add_slot('body-cell-actions', ACTIONS_CELL)
        self.table.on('edit', lambda event: self.edit(str(event.args)))
        self.table.on('delete', lambda event: self.delete(str(event.args)))

    async def render(self) -> None:
        templates = await run.io_bound(self.services.templates.all)
        if templates is None:  # the app is stopping
            return
        self.templates = {template.name: template for template in templates}
        self.table.rows = [_row(template) for template in templates]

    async def edit(self, name: str | None) -> None:
        if self._admin('template.save') is None:
            return
        template = self.templates.get(name) if name else None

        async def save(candidate: Template) -> str | None:
            admin = self._admin('template.save')
            if admin is None:
                return 'Only admins manage templates.'
            if template is None and await run.io_bound(self.services.templates.get, candidate.name) is not None:
                return f'There is already a template named {candidate.name}.'
            await run.io_bound(self.services.templates.save, candidate, admin.username)
            self._audit(admin, 'template.save', candidate.name, 'succeeded', {'new': template is None})
            return None

        if await TemplateDialog(template, save).ask():
            await self.render()

    async def delete(self, name: str) -> None:
        if self._admin('template.delete', name) is None:
            return
        if not await ConfirmDeleteTemplate(name).ask():
            return
        admin = self._admin('template.delete', name)
        if admin is None:
            return
        deleted = await run.io_bound(self.services.templates.delete, name)
        self._audit(admin, 'template.delete', name, 'succeeded' if deleted else 'not found')
        await self.render()


class ConfirmDeleteTemplate(AskingDialog):
    def __init__(self, name: str) -> None:
        super().__init__()
        with self, ui.card().classes('gap-2').props('role=dialog aria-label="Delete template"'):
            ui.label(f'Delete the template {name}?').classes('text-h6 break-all')
            ui.label('Environments made from it keep running; no new ones can be made from it.').classes('text-body2')
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                ui.button('Delete', color='negative', on_click=lambda: self.submit(True)).props(
                    'aria-label="Confirm delete"'
                ).mark('confirm-delete')


def _row(template: Template) -> dict[str, Any]:
    return {
        'name': template.name,
        'image': template.image,
        'home': template.home,
        'limits': f'{template.cpus:g} CPUs, {memory_text(template.memory)}',
        'idle': f'{template.idle_minutes} min' if template.idle_minutes else 'never',
        'groups': ', '.join(template.groups) or 'everyone',
        'source': 'templates.yaml' if template.source == 'file' else 'page',
        'refusals': '; '.join(template.refusals()) or '—',
    }
