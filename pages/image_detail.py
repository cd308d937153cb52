"""/images/{id-or-tag}: inspect data and history rendered readably (as text), and as raw JSON."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from nicegui import ui

from components.environment_access import EnvironmentAccess
from components.frame import frame, on_client_delete, page_identity
from components.links import HOSTS, container_path, on_host
from core.docker.client import describe_error
from core.docker.reads import Gone
from core.permissions import LOCAL_ENDPOINT, Identity, Permission
from core.state.images import ImageRow, format_created, format_size
from core.state.model import IMAGE_CHANGES, StateChange, state_key

from .container_detail import environment_pairs, section
from .images import image_action

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

HISTORY_COLUMNS: list[dict[str, Any]] = [
    {'name': 'created', 'label': 'Created', 'field': 'created', 'align': 'left'},
    {
        'name': 'created_by',
        'label': 'Created by',
        'field': 'created_by',
        'align': 'left',
        'style': 'white-space: pre-wrap; word-break: break-all',
    },
    {'name': 'size', 'label': 'Size', 'field': 'size', 'align': 'right'},
    {'name': 'comment', 'label': 'Comment', 'field': 'comment', 'align': 'left'},
]
VERBS = [('run', 'Run', 'rocket_launch'), ('tag', 'Tag', 'sell'), ('remove', 'Remove', 'delete')]


def register(services: Services) -> None:
    @ui.page('/images/{reference:path}')
    @ui.page(HOSTS + '/images/{reference:path}')
    async def image_page(reference: str, endpoint: str = LOCAL_ENDPOINT) -> None:
        identity = page_identity(services, Permission.IMAGE_READ, 'inspect images')
        if identity is None:
            return
        await services.state.first_sync(endpoint=endpoint)
        with frame(services, identity, reference):
            row = services.state.find_image(reference, endpoint)
            if row is None:
                ui.label(f'No image with id or tag "{reference}"{on_host(endpoint)}.').classes('text-h6')
                ui.link('Back to images', '/images')
                return
            await ImageDetail(services, row, identity).load()


class ImageDetail:
    def __init__(self, services: Services, row: ImageRow, identity: Identity) -> None:
        self.services = services
        self.image_id = row.id
        self.endpoint = row.endpoint
        self.key = state_key(row.endpoint, row.id)  # the image's key in the live state
        self.environment = EnvironmentAccess(services, identity, action='image.reveal_env', target=row.title)
        self.data: dict[str, Any] = {}
        operator = identity.can(Permission.IMAGE_REMOVE, row.scope)
        with ui.row().classes('w-full items-center gap-2'):
            ui.link('Images', '/images')
            ui.label('/')
            self.title = ui.label(row.title).classes('text-h5 break-all')
            self.badge = ui.badge('dangling' if row.dangling else '', color='warning')
            self.badge.set_visibility(row.dangling)
            ui.space()
            if operator:
                for action, verb, icon in VERBS:
                    ui.button(icon=icon, on_click=lambda action=action: image_action(services, action, self.key)).props(
                        f'flat round aria-label="{verb}" title="{verb}"'
                    ).mark(verb)
        with ui.tabs() as tabs:
            ui.tab('overview', 'Overview')
            ui.tab('history', 'History')
            ui.tab('raw', 'Raw JSON')
        with ui.tab_panels(tabs, value='overview').classes('w-full'):
            with ui.tab_panel('overview'):
                self.overview = ui.column().classes('w-full gap-4')
            with ui.tab_panel('history'):
                self.history = (
                    ui.table(columns=HISTORY_COLUMNS, rows=[], row_key='index', pagination={'rowsPerPage': 0})
                    .props('flat bordered dense')
                    .classes('w-full')
                )
            with ui.tab_panel('raw'):
                self.raw = ui.code('', language='json').classes('w-full')
        on_client_delete(services.state.subscribe(self.on_state))

    def on_state(self, change: StateChange) -> None:
        if change.kind in IMAGE_CHANGES and change.image_id in ('', self.key):
            row = self.services.state.images.get(self.key)
            if row is None:
                self.badge.text = 'removed'
                self.badge.set_visibility(True)
                return
            self.title.text = row.title
            self.title.client.safe_invoke(self.load)

    async def load(self) -> None:
        try:
            data, history = await self.services.host_reads(self.endpoint).image(self.image_id)
        except Gone:
            self.badge.text = 'removed'
            self.badge.set_visibility(True)
            return
        except Exception as error:  # daemon away: say so, keep the page
            self.overview.clear()
            with self.overview:
                ui.label(f'Could not read the image: {describe_error(error)}').classes('text-negative')
            return
        self.data = data
        self.history.rows = [history_row(index, entry) for index, entry in enumerate(history)]
        self.show()

    def show(self) -> None:
        shown = self.environment.redact(self.data)
        self.raw.content = json.dumps(shown, indent=2, sort_keys=True)
        self.overview.clear()
        with self.overview:
            self.render_overview(shown)

    def render_overview(self, data: dict[str, Any]) -> None:
        config = data.get('Config') or {}
        row = ImageRow.from_inspect(data)
        users = [
            container
            for container in self.services.state.containers.values()
            if container.image_id == self.image_id and container.endpoint == self.endpoint
        ]
        section(
            'General',
            [
                ('Id', data.get('Id', '')),
                ('Tags', ', '.join(row.tags) or 'none (dangling)'),
                ('Digests', ', '.join(row.digests) or 'none'),
                ('Size', format_size(row.size)),
                ('Created', format_created(row.created)),
                ('Platform', f'{data.get("Os", "")}/{data.get("Architecture", "")}'),
                ('Author', data.get('Author') or ''),
                ('Entrypoint', ' '.join(config.get('Entrypoint') or [])),
                ('Command', ' '.join(config.get('Cmd') or [])),
                ('Working directory', config.get('WorkingDir') or ''),
                ('User', config.get('User') or 'root'),
                ('Exposed ports', ', '.join(sorted(config.get('ExposedPorts') or {})) or 'none'),
            ],
        )
        section('Environment', environment_pairs(config.get('Env') or []))
        self.environment.explain(self.data, self.show)
        section('Labels', sorted((config.get('Labels') or {}).items()))
        with ui.card().classes('w-full'):
            ui.label(f'Containers using it ({len(users)})').classes('text-subtitle1 text-weight-medium')
            for container in sorted(users, key=lambda container: container.name):
                ui.link(f'{container.name} ({container.state})', container_path(container.name, container.endpoint))


def history_row(index: int, entry: dict[str, Any]) -> dict[str, Any]:
    created = float(entry.get('Created') or 0)
    return {
        'index': index,
        'created': time.strftime('%Y-%m-%d %H:%M', time.localtime(created)) if created else '',
        'created_by': str(entry.get('CreatedBy') or ''),
        'size': format_size(int(entry.get('Size') or 0)),
        'comment': str(entry.get('Comment') or ''),
    }
