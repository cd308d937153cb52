"""/networks: every network, live from the event stream: driver, scope, subnets, gateways, the containers on it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from nicegui import ui

from components.frame import frame, on_client_delete, page_identity
from components.links import js_container_href
from core.permissions import Permission
from core.state.containers import ContainerRow, parse_time
from core.state.model import CONTAINER_CHANGES, NETWORK_CHANGES, StateChange
from core.state.networks import NetworkRow, network_members

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

COALESCE_SECONDS = 0.015
COLUMNS: list[dict[str, Any]] = [
    {'name': 'name', 'label': 'Name', 'field': 'name', 'sortable': True, 'align': 'left'},
    {'name': 'driver', 'label': 'Driver', 'field': 'driver', 'sortable': True, 'align': 'left'},
    {'name': 'scope', 'label': 'Scope', 'field': 'scope', 'sortable': True, 'align': 'left'},
    {'name': 'subnet', 'label': 'Subnet', 'field': 'subnet', 'align': 'left'},
    {'name': 'gateway', 'label': 'Gateway', 'field': 'gateway', 'align': 'left'},
    {'name': 'members', 'label': 'Containers', 'field': 'member_names', 'align': 'left'},
    {'name': 'created', 'label': 'Created', 'field': 'created', 'sortable': True, 'align': 'left'},
]
# Vue interpolation only: names come from the engine and are never HTML
NAME_CELL = (
    '<q-td :props="props"><span class="break-all">{{ props.row.name }}</span>'
    '<q-badge v-if="props.row.built_in" color="blue-grey" label="built-in" class="q-ml-sm" />'
    '<q-badge v-if="props.row.internal" color="info" label="internal" class="q-ml-sm" />'
    '<q-badge v-if="props.row.attachable" color="grey" label="attachable" class="q-ml-sm" /></q-td>'
)
MEMBERS_CELL = (
    '<q-td :props="props"><div v-for="member in props.row.members" :key="member.name">'
    f'<a :href="{js_container_href("member.name", "member.endpoint")}" class="text-primary">'
    '{{ member.name }}</a> <span class="text-caption">({{ member.state }})</span></div></q-td>'
)


def register(services: Services) -> None:
    @ui.page('/networks')
    def networks_page() -> None:
        identity = page_identity(services, Permission.NETWORK_READ, 'see networks')
        if identity is None:
            return
        with frame(services, identity, 'Networks'):
            NetworksView(services)


class NetworksView:
    """A filterable table; re-renders (coalesced) when networks change or a container joins or leaves one."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._pending: asyncio.TimerHandle | None = None
        with ui.row().classes('w-full items-center gap-3'):
            ui.label('Networks').classes('text-h5')
            self.summary = ui.label().classes('text-caption')
            ui.space()
            self.search = (
                ui.input(placeholder='Filter')
                .props('clearable dense outlined aria-label="Filter networks"')
                .classes('w-64')
            )
        self.table = ui.table(columns=COLUMNS, rows=[], row_key='id', pagination={'rowsPerPage': 50})
        self.table.props('flat bordered dense wrap-cells').classes('w-full')
        self.table.add_slot('body-cell-name', NAME_CELL)
        self.table.add_slot('body-cell-members', MEMBERS_CELL)
        self.table.bind_filter_from(self.search, 'value')
        self.render()
        on_client_delete(services.state.subscribe(self.on_state))

    def on_state(self, change: StateChange) -> None:
        if (change.kind in NETWORK_CHANGES or change.kind in CONTAINER_CHANGES) and self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(COALESCE_SECONDS, self._flush)

    def _flush(self) -> None:
        self._pending = None
        self.render()

    def render(self) -> None:
        state = self.services.state
        members = network_members(state.containers.values())
        networks = sorted(state.networks.values(), key=lambda network: network.name)
        self.summary.text = f'{len(networks)} networks'
        self.table.rows = [row_dict(network, members.get(network.name, [])) for network in networks]


def row_dict(network: NetworkRow, members: list[ContainerRow]) -> dict[str, Any]:
    created = parse_time(network.created)
    listed = [{'name': row.name, 'state': row.state, 'endpoint': row.endpoint} for row in members]
    return {
        'id': network.id,
        'name': network.name,
        'driver': network.driver,
        'scope': network.scope,
        'subnet': ', '.join(network.subnets),
        'gateway': ', '.join(network.gateways),
        'internal': network.internal,
        'attachable': network.attachable,
        'built_in': network.built_in,
        'members': listed,
        'member_names': ' '.join(member['name'] for member in listed),
        'created': created.strftime('%Y-%m-%d %H:%M') if created else '',
        'endpoint': network.endpoint,
    }
