"""/volumes/{name} (and /hosts/{endpoint}/volumes/{name}): one volume's facts, labels, driver options, size, the
containers using it (live), and its inspect data as raw JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from nicegui import ui

from components.frame import frame, on_client_delete, page_identity
from components.links import HOSTS, container_path, on_host
from core.docker.client import describe_error
from core.docker.reads import Gone
from core.permissions import LOCAL_ENDPOINT, Identity, Permission
from core.state.containers import parse_time
from core.state.images import format_size
from core.state.model import CONTAINER_CHANGES, VOLUME_CHANGES, ChangeKind, StateChange
from core.state.volumes import VolumeRow, volume_sizes

from .container_detail import section
from .volumes import ask_and_remove, may_remove

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

HIDDEN = '(hidden)'


def register(services: Services) -> None:
    @ui.page('/volumes/{name}')
    @ui.page(HOSTS + '/volumes/{name}')
    async def volume_page(name: str, endpoint: str = LOCAL_ENDPOINT) -> None:
        identity = page_identity(services, Permission.VOLUME_READ, 'inspect volumes')
        if identity is None:
            return
        await services.state.first_sync(endpoint=endpoint)
        with frame(services, identity, name):
            row = services.state.volume(name, endpoint)
            if row is None or not identity.can(Permission.VOLUME_READ, row.access_scope):
                ui.label(f'No volume named "{name}"{on_host(endpoint)}: it was removed, or never existed.').classes(
                    'text-h6'
                ).props('role=alert')
                ui.link('Back to volumes', '/volumes')
                return
            await VolumeDetail(services, row, identity).load()


class VolumeDetail:
    def __init__(self, services: Services, row: VolumeRow, identity: Identity) -> None:
        self.services = services
        self.identity = identity
        self.volume = row
        self.data: dict[str, Any] = {}
        self.size = 'measuring…'
        with ui.row().classes('w-full items-center gap-2'):
            ui.link('Volumes', '/volumes')
            ui.label('/')
            ui.label(row.name).classes('text-h5 break-all font-mono')
            if row.anonymous:
                ui.badge('anonymous', color='blue-grey')
            self.badge = ui.badge('', color='warning')
            ui.space()
            self.remove = ui.button(
                icon='delete', on_click=lambda: ask_and_remove(services, row.name, row.endpoint)
            ).props('flat round aria-label="Remove" title="Remove"')
        self.gone = ui.label().classes('text-negative').props('role=alert')
        self.gone.set_visibility(False)
        with ui.tabs() as tabs:
            ui.tab('overview', 'Overview')
            ui.tab('raw', 'Raw JSON')
        with ui.tab_panels(tabs, value='overview').classes('w-full'):
            with ui.tab_panel('overview'):
                self.overview = ui.column().classes('w-full gap-4')
            with ui.tab_panel('raw'):
                self.raw = ui.code('', language='json').classes('w-full')
        self.show_users()
        on_client_delete(services.state.subscribe(self.on_state))
        ui.timer(0, self.load_size, once=True)

    def on_state(self, change: StateChange) -> None:
        if change.kind in VOLUME_CHANGES and change.volume in ('', self.volume.name):
            if self.volume.name not in self.services.state.volumes:
                self.vanished()
            elif change.kind == ChangeKind.VOLUME_UPSERT:
                self.overview.client.safe_invoke(self.load)
        elif change.kind in CONTAINER_CHANGES:
            self.show_users()

    def vanished(self) -> None:
        self.gone.text = f'Volume {self.volume.name} was removed.'
        self.gone.set_visibility(True)
        self.badge.text = 'removed'
        self.badge.set_visibility(True)
        self.remove.set_visibility(False)

    def show_users(self) -> None:
        users = self.services.commands.volume_users(self.volume)
        removed = self.volume.name not in self.services.state.volumes
        self.badge.text = 'removed' if removed else '' if users else 'unused'
        self.badge.set_visibility(bool(self.badge.text))
        self.remove.set_visibility(not removed and may_remove(self.services, self.identity, self.volume, users))
        if self.data:
            self.show()

    async def load(self) -> None:
        try:
            self.data = await self.services.host_reads(self.volume.endpoint).volume(self.volume.name)
        except Gone:
            self.vanished()
            return
        except Exception as error:  # daemon away: say so, keep the page
            self.overview.clear()
            with self.overview:
                ui.label(f'Could not read the volume: {describe_error(error)}').classes('text-negative')
            return
        self.volume = VolumeRow.from_inspect(self.data, self.volume.endpoint)
        self.show()

    async def load_size(self) -> None:
        try:
            sizes = volume_sizes(await self.services.host_reads(self.volume.endpoint).recent_disk_usage())
            self.size = format_size(sizes[self.volume.name]) if self.volume.name in sizes else 'not known'
        except Exception as error:  # the disk usage call failed: the rest of the page stands
            self.size = f'not known ({describe_error(error)})'
        if self.data:
            self.show()

    def show(self) -> None:
        shown = self.redacted(self.data)
        self.raw.content = json.dumps(shown, indent=2, sort_keys=True)
        created = parse_time(self.volume.created)
        users = self.services.commands.volume_users(self.volume)
        self.overview.clear()
        with self.overview:
            section(
                'General',
                [
                    ('Name', self.volume.name),
                    ('Driver', self.volume.driver),
                    ('Scope', self.volume.scope),
                    ('Mountpoint', self.volume.mountpoint),
                    ('Created', created.strftime('%Y-%m-%d %H:%M:%S') if created else ''),
                    ('Size', self.size),
                    ('Anonymous', 'yes' if self.volume.anonymous else 'no'),
                    ("Berth's own", 'yes (admins only)' if self.protected(users) else 'no'),
                ],
            )
            section('Labels', sorted(self.volume.labels.items()))
            section('Driver options', sorted((shown.get('Options') or {}).items()))
            with ui.card().classes('w-full'):
                ui.label(f'Containers using it ({len(users)})').classes('text-subtitle1 text-weight-medium')
                for container in users:
                    ui.link(f'{container.name} ({container.state})', container_path(container.name, container.endpoint))

    def protected(self, users: list[Any]) -> bool:
        return self.services.protection.volume_is_protected(self.volume.labels, users)

    def redacted(self, data: dict[str, Any]) -> dict[str, Any]:
        """Driver option values (a mount option may carry a password) only for those who may set them."""
        if self.identity.can(Permission.VOLUME_DRIVER_OPTIONS) or not data.get('Options'):
            return data
        return {**data, 'Options': dict.fromkeys(data['Options'], HIDDEN)}
