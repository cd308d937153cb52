"""/volumes: every volume, live from the event stream: driver, mountpoint, created, labels, the containers using it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from nicegui import ui

from components.frame import frame, on_client_delete, page_identity
from components.links import js_container_href
from core.permissions import Identity, Permission
from core.state.containers import parse_time
from core.state.model import CONTAINER_CHANGES, VOLUME_CHANGES, StateChange
from core.state.volumes import VolumeRow, volume_users

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

COALESCE_SECONDS = 0.015
COLUMNS: list[dict[str, Any]] = [
    {'name': 'name', 'label': 'Name', 'field': 'name', 'sortable': True, 'align': 'left'},
    {'name': 'driver', 'label': 'Driver', 'field': 'driver', 'sortable': True, 'align': 'left'},
    {'name': 'users', 'label': 'Used by', 'field': 'used_by', 'align': 'left'},
    {'name': 'created', 'label': 'Created', 'field': 'created', 'sortable': True, 'align': 'left'},
    {'name': 'mountpoint', 'label': 'Mountpoint', 'field': 'mountpoint', 'align': 'left'},
    {'name': 'labels', 'label': 'Labels', 'field': 'label_text', 'align': 'left'},
]
# Vue interpolation only: names and labels come from the engine and are never HTML
NAME_CELL = (
    '<q-td :props="props"><span class="font-mono break-all">{{ props.row.name }}</span>'
    '<q-badge v-if="props.row.anonymous" color="blue-grey" label="anonymous" class="q-ml-sm" />'
    '<q-badge v-if="!props.row.users.length" color="warning" label="unused" class="q-ml-sm" /></q-td>'
)
USERS_CELL = (
    '<q-td :props="props"><div v-for="user in props.row.users" :key="user.name">'
    f'<a :href="{js_container_href("user.name", "user.endpoint")}" class="text-primary">'
    '{{ user.name }}</a> <span class="text-caption">({{ user.state }})</span></div></q-td>'
)
LABELS_CELL = '<q-td :props="props"><div v-for="label in props.row.labels" :key="label">{{ label }}</div></q-td>'


def register(services: Services) -> None:
    @ui.page('/volumes')
    def volumes_page() -> None:
        identity = page_identity(services, Permission.VOLUME_READ, 'see volumes')
        if identity is None:
            return
        with frame(services, identity, 'Volumes'):
            VolumesView(services, identity)


class VolumesView:
    """A filterable table; re-renders (coalesced) when volumes change or a container's mounts may have."""

    def __init__(self, services: Services, identity: Identity) -> None:
        self.services = services
        self.identity = identity
        self._pending: asyncio.TimerHandle | None = None
        with ui.row().classes('w-full items-center gap-3'):
            ui.label('Volumes').classes('text-h5')
            self.summary = ui.label().classes('text-caption')
            ui.space()
            self.search = (
                ui.input(placeholder='Filter')
                .props('clearable dense outlined aria-label="Filter volumes"')
                .classes('w-64')
            )
        self.table = ui.table(columns=COLUMNS, rows=[], row_key='name', pagination={'rowsPerPage': 50})
        self.table.props('flat bordered dense wrap-cells').classes('w-full')
        self.table.add_slot('body-cell-name', NAME_CELL)
        self.table.add_slot('body-cell-users', USERS_CELL)
        self.table.add_slot('body-cell-labels', LABELS_CELL)
        self.table.bind_filter_from(self.search, 'value')
        self.render()
        on_client_delete(services.state.subscribe(self.on_state))

    def on_state(self, change: StateChange) -> None:
        if (change.kind in VOLUME_CHANGES or change.kind in CONTAINER_CHANGES) and self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(COALESCE_SECONDS, self._flush)

    def _flush(self) -> None:
        self._pending = None
        self.render()

    def render(self) -> None:
        state = self.services.state
        users = volume_users(state.containers.values())
        volumes = [
            volume
            for volume in state.volumes.values()
            if self.identity.can(Permission.VOLUME_READ, volume.access_scope)
        ]
        rows = [row_dict(volume, users.get(volume.name, [])) for volume in sorted(volumes, key=lambda v: v.name)]
        unused = sum(1 for row in rows if not row['users'])
        self.summary.text = f'{len(rows)} volumes, {unused} unused'
        self.table.rows = rows


def row_dict(volume: VolumeRow, users: list[Any]) -> dict[str, Any]:
    created = parse_time(volume.created)
    used_by = [{'name': row.name, 'state': row.state, 'endpoint': row.endpoint} for row in users]
    labels = [f'{key}={value}' for key, value in sorted(volume.labels.items())]
    return {
        'name': volume.name,
        'driver': volume.driver,
        'mountpoint': volume.mountpoint,
        'created': created.strftime('%Y-%m-%d %H:%M') if created else '',
        'labels': labels,
        'label_text': ' '.join(labels),
        'users': used_by,
        'used_by': ' '.join(user['name'] for user in used_by),
        'anonymous': volume.anonymous,
        'endpoint': volume.endpoint,
    }
