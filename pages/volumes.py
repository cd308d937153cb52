"""/volumes: every volume, live from the event stream: driver, size, mountpoint, created, labels, the containers using
it; create, remove, prune (operators), inspect."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from nicegui import ui

from components.frame import frame, page_identity
from components.hosts import single_host
from components.links import js_container_href, js_volume_href, on_host, volume_path
from components.live_table import LiveTable
from components.table_cells import RowAction, action_buttons_cell
from components.volume_dialogs import CreateVolumeDialog, PruneVolumesDialog, RemoveVolumeDialog
from core.docker.client import describe_error
from core.errors import CommandError
from core.permissions import LOCAL_ENDPOINT, Forbidden, Identity, Permission
from core.state.containers import ContainerRow, containers_by, parse_time
from core.state.images import format_size
from core.state.model import CONTAINER_CHANGES, VOLUME_CHANGES
from core.state.volumes import VolumeRow, volume_sizes

from .images import run_command, sentence

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

COLUMNS: list[dict[str, Any]] = [
    {'name': 'name', 'label': 'Name', 'field': 'name', 'sortable': True, 'align': 'left'},
    {'name': 'driver', 'label': 'Driver', 'field': 'driver', 'sortable': True, 'align': 'left'},
    {'name': 'size', 'label': 'Size', 'field': 'size_bytes', 'sortable': True, 'align': 'right'},
    {'name': 'users', 'label': 'Used by', 'field': 'used_by', 'align': 'left'},
    {'name': 'created', 'label': 'Created', 'field': 'created', 'sortable': True, 'align': 'left'},
    {'name': 'mountpoint', 'label': 'Mountpoint', 'field': 'mountpoint', 'align': 'left'},
    {'name': 'labels', 'label': 'Labels', 'field': 'label_text', 'align': 'left'},
    {'name': 'actions', 'label': 'Actions', 'field': 'name', 'align': 'right'},
]
ROW_ACTIONS: list[RowAction] = [
    ('inspect', 'Inspect', 'info', 'true'),
    ('remove', 'Remove', 'delete', 'props.row.removable'),
]
# Vue interpolation only: names and labels come from the engine and are never HTML
NAME_CELL = (
    f'<q-td :props="props"><a :href="{js_volume_href()}" class="text-primary font-mono break-all">'
    '{{ props.row.name }}</a>'
    '<q-badge v-if="props.row.anonymous" color="blue-grey" label="anonymous" class="q-ml-sm" />'
    '<q-badge v-if="!props.row.users.length" color="warning" label="unused" class="q-ml-sm" /></q-td>'
)
SIZE_CELL = '<q-td :props="props">{{ props.row.size }}</q-td>'
USERS_CELL = (
    '<q-td :props="props"><div v-for="user in props.row.users" :key="user.name">'
    f'<a :href="{js_container_href("user.name", "user.endpoint")}" class="text-primary">'
    '{{ user.name }}</a> <span class="text-caption">({{ user.state }})</span></div></q-td>'
)
LABELS_CELL = '<q-td :props="props"><div v-for="label in props.row.labels" :key="label">{{ label }}</div></q-td>'


def register(services: Services) -> None:
    @ui.page('/volumes')
    def volumes_page(prune: str = '') -> None:
        identity = page_identity(services, Permission.VOLUME_READ, 'see volumes')
        if identity is None:
            return
        with frame(services, identity, 'Volumes'):
            view = VolumesView(services, identity)
            if prune and identity.can(Permission.VOLUME_PRUNE):  # ?prune=1: the dashboard's link
                ui.timer(0.01, view.prune, once=True)  # once connected: the dialog needs the socket


class VolumesView:
    """The live table; sizes come from the engine's disk usage, asked for once the table is shown (shared with other
    pages for a few seconds) and again on "Refresh sizes"."""

    def __init__(self, services: Services, identity: Identity) -> None:
        self.services = services
        self.identity = identity
        self.host = single_host(services)  # one host at a time: names repeat across hosts
        self.sizes: dict[str, int] | None = None  # None: not measured yet
        self.prune_dialog: PruneVolumesDialog | None = None
        self.live = LiveTable(
            services,
            title='Volumes' + on_host(self.host),
            columns=COLUMNS,
            row_key='name',
            slots={
                'body-cell-name': NAME_CELL,
                'body-cell-size': SIZE_CELL,
                'body-cell-users': USERS_CELL,
                'body-cell-labels': LABELS_CELL,
                'body-cell-actions': action_buttons_cell(ROW_ACTIONS),
            },
            changes=VOLUME_CHANGES | CONTAINER_CHANGES,
            rows=lambda: volume_rows(services, identity, self.sizes, self.host),
            toolbar=self.toolbar,
        )
        self.live.table.on('row_action', lambda event: self.row_action(event.args['action'], event.args['id']))
        ui.timer(0, self.load_sizes, once=True)  # after the table is on screen: the call is slow on a big host

    def toolbar(self) -> None:
        self.sizes_note = ui.label('Measuring sizes…').classes('text-caption')
        self.refresh = ui.button('Refresh sizes', icon='refresh', on_click=lambda: self.load_sizes(fresh=True)).props(
            'flat no-caps aria-label="Refresh sizes"'
        )
        if self.identity.can(Permission.VOLUME_PRUNE):  # hidden from those who cannot; the server checks anyway
            ui.button('Prune', icon='cleaning_services', on_click=self.prune).props(
                'flat no-caps aria-label="Prune volumes"'
            )
        if self.identity.can(Permission.VOLUME_CREATE):
            ui.button('New volume', icon='add', on_click=self.create).props('flat no-caps aria-label="New volume"')

    async def load_sizes(self, fresh: bool = False) -> None:
        self.refresh.props('loading')
        try:
            self.sizes = volume_sizes(await self.services.host_reads(self.host).recent_disk_usage(fresh=fresh))
            self.sizes_note.text = f'Sizes as of {time.strftime("%H:%M:%S")}'
        except Exception as error:  # the engine is away or slow: the table stays, without sizes
            self.sizes_note.text = f'Sizes unavailable: {describe_error(error)}'
        finally:
            self.refresh.props(remove='loading')
        self.live.render()
        if self.prune_dialog is not None:
            self.prune_dialog.show_sizes(self.sizes)

    async def row_action(self, action: str, name: str) -> None:
        if action == 'inspect':
            ui.navigate.to(volume_path(name, self.host))
        elif action == 'remove':
            await ask_and_remove(self.services, name, self.host)

    async def create(self) -> None:
        async def create(name: str, driver: str, labels: str, options: str) -> str | None:
            try:
                await self.services.commands.create_volume(
                    self.services.sessions.current(), name, driver, labels, options, endpoint=self.host
                )
            except (Forbidden, CommandError) as error:
                return sentence(error)
            return None

        await CreateVolumeDialog(create, driver_options=self.identity.can(Permission.VOLUME_DRIVER_OPTIONS)).ask()

    async def prune(self) -> None:
        commands = self.services.commands
        self.prune_dialog = PruneVolumesDialog(
            lambda mode: commands.volume_prune_candidates(self.services.sessions.current(), mode, self.host), self.sizes
        )
        try:
            answer = await self.prune_dialog.ask()
        finally:
            self.prune_dialog = None
        if answer:
            mode, names = answer
            await run_command(self.services, commands.prune_volumes, mode, names, endpoint=self.host)


async def ask_and_remove(services: Services, name: str, endpoint: str = LOCAL_ENDPOINT) -> None:
    """Asks (naming the containers that use it, offering 'force'), then queues the removal; a refusal is a
    notification."""
    volume = services.state.volume(name, endpoint)
    if volume is None:
        ui.notify('That volume no longer exists.', type='warning')
        return
    answer = await RemoveVolumeDialog(volume, services.commands.volume_users(volume)).ask()
    if answer is not None:
        await run_command(services, services.commands.remove_volume, name, force=answer['force'], endpoint=endpoint)


def may_remove(services: Services, identity: Identity, volume: VolumeRow, users: list[ContainerRow]) -> bool:
    """Whether to show Remove: the permission removing this volume needs (Berth's own: the admin's), on its scope."""
    permission, _ = services.commands.volume_remove_permission(volume, users)
    return identity.can(Permission.VOLUME_REMOVE, volume.access_scope) and identity.can(permission, volume.access_scope)


def volume_rows(
    services: Services, identity: Identity, sizes: dict[str, int] | None, host: str = LOCAL_ENDPOINT
) -> tuple[list[dict[str, Any]], str]:
    state = services.state
    users = containers_by([row for row in state.containers.values() if row.endpoint == host], 'volumes')
    volumes = [
        volume
        for volume in state.volumes.values()
        if volume.endpoint == host and identity.can(Permission.VOLUME_READ, volume.access_scope)
    ]
    rows = []
    for volume in sorted(volumes, key=lambda v: v.name):
        row = row_dict(volume, users.get(volume.name, []), sizes)
        row['removable'] = may_remove(services, identity, volume, users.get(volume.name, []))
        rows.append(row)
    unused = sum(1 for row in rows if not row['users'])
    summary = f'{len(rows)} volumes, {unused} unused'
    if sizes is not None:
        summary += f', {format_size(sum(sizes.get(row["name"], 0) for row in rows))}'
    return rows, summary


def row_dict(volume: VolumeRow, users: list[Any], sizes: dict[str, int] | None = None) -> dict[str, Any]:
    created = parse_time(volume.created)
    used_by = [{'name': row.name, 'state': row.state, 'endpoint': row.endpoint} for row in users]
    labels = [f'{key}={value}' for key, value in sorted(volume.labels.items())]
    size = sizes.get(volume.name) if sizes is not None else None
    return {
        'id': volume.name,  # what a row action names
        'name': volume.name,
        'driver': volume.driver,
        'size': format_size(size) if size is not None else ('…' if sizes is None else '—'),
        'size_bytes': size if size is not None else -1,
        'mountpoint': volume.mountpoint,
        'created': created.strftime('%Y-%m-%d %H:%M') if created else '',
        'labels': labels,
        'label_text': ' '.join(labels),
        'users': used_by,
        'used_by': ' '.join(user['name'] for user in used_by),
        'anonymous': volume.anonymous,
        'endpoint': volume.endpoint,
    }
