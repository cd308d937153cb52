"""/volumes: every volume, live from the event stream: driver, mountpoint, created, labels, the containers using it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import ui

from components.frame import frame, page_identity
from components.links import js_container_href
from components.live_table import LiveTable
from core.permissions import Identity, Permission
from core.state.containers import containers_by, parse_time
from core.state.model import CONTAINER_CHANGES, VOLUME_CHANGES
from core.state.volumes import VolumeRow

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

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
            LiveTable(
                services,
                title='Volumes',
                columns=COLUMNS,
                row_key='name',
                slots={'body-cell-name': NAME_CELL, 'body-cell-users': USERS_CELL, 'body-cell-labels': LABELS_CELL},
                changes=VOLUME_CHANGES | CONTAINER_CHANGES,
                rows=lambda: volume_rows(services, identity),
            )


def volume_rows(services: Services, identity: Identity) -> tuple[list[dict[str, Any]], str]:
    state = services.state
    users = containers_by(state.containers.values(), 'volumes')
    volumes = [volume for volume in state.volumes.values() if identity.can(Permission.VOLUME_READ, volume.access_scope)]
    rows = [row_dict(volume, users.get(volume.name, [])) for volume in sorted(volumes, key=lambda v: v.name)]
    unused = sum(1 for row in rows if not row['users'])
    return rows, f'{len(rows)} volumes, {unused} unused'


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
