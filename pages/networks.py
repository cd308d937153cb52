"""/networks: every network, live from the event stream: driver, scope, subnets, gateways, the containers on it;
"New network", "Prune", and per row "Inspect" and "Remove" (operators; checked again on the server)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import ui

from components.frame import frame, page_identity
from components.hosts import single_host
from components.links import js_container_href, js_network_href, network_path, on_host
from components.live_table import LiveTable
from components.network_dialogs import NewNetworkDialog, PruneNetworksDialog, RemoveNetworkDialog
from components.table_cells import RowAction, action_buttons_cell
from core.errors import CommandError
from core.permissions import LOCAL_ENDPOINT, Forbidden, Identity, Permission, Scope
from core.state.containers import ContainerRow, containers_by, parse_time
from core.state.model import CONTAINER_CHANGES, NETWORK_CHANGES
from core.state.networks import NetworkRow

from .images import run_command, sentence

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

COLUMNS: list[dict[str, Any]] = [
    {'name': 'name', 'label': 'Name', 'field': 'name', 'sortable': True, 'align': 'left'},
    {'name': 'driver', 'label': 'Driver', 'field': 'driver', 'sortable': True, 'align': 'left'},
    {'name': 'scope', 'label': 'Scope', 'field': 'scope', 'sortable': True, 'align': 'left'},
    {'name': 'subnet', 'label': 'Subnet', 'field': 'subnet', 'align': 'left'},
    {'name': 'gateway', 'label': 'Gateway', 'field': 'gateway', 'align': 'left'},
    {'name': 'members', 'label': 'Containers', 'field': 'member_names', 'align': 'left'},
    {'name': 'created', 'label': 'Created', 'field': 'created', 'sortable': True, 'align': 'left'},
]
ACTIONS_COLUMN = {'name': 'actions', 'label': 'Actions', 'field': 'id', 'align': 'right'}
INSPECT: RowAction = ('inspect', 'Inspect', 'info', 'true')
REMOVE: RowAction = ('remove', 'Remove', 'delete', '!props.row.built_in')
# Vue interpolation only: names come from the engine and are never HTML
NAME_CELL = (
    f'<q-td :props="props"><a :href="{js_network_href()}" class="text-primary break-all">{{{{ props.row.name }}}}</a>'
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
    def networks_page(prune: str = '') -> None:
        identity = page_identity(services, Permission.NETWORK_READ, 'see networks')
        if identity is None:
            return
        with frame(services, identity, 'Networks'):
            view = NetworksView(services, identity)
            if prune and identity.can(Permission.NETWORK_PRUNE):  # ?prune=1: the dashboard's link
                ui.timer(0.01, view.prune, once=True)  # once connected: the dialog needs the socket


class NetworksView:
    """The live table; operators also get "New network", "Prune" and a "Remove" per row."""

    def __init__(self, services: Services, identity: Identity) -> None:
        self.services = services
        self.host = single_host(services)  # one host at a time
        where = Scope(endpoint=self.host)
        can_remove = identity.can(Permission.NETWORK_REMOVE, where)
        self.live = LiveTable(
            services,
            title='Networks' + on_host(self.host),
            columns=[*COLUMNS, ACTIONS_COLUMN],
            row_key='id',
            slots={
                'body-cell-name': NAME_CELL,
                'body-cell-members': MEMBERS_CELL,
                'body-cell-actions': action_buttons_cell([INSPECT, REMOVE] if can_remove else [INSPECT]),
            },
            changes=NETWORK_CHANGES | CONTAINER_CHANGES,
            rows=lambda: network_rows(services, identity, self.host),
        )
        self.live.table.on('row_action', lambda event: self.row_action(event.args['action'], event.args['id']))
        title_row = self.live.search.parent_slot  # the table's title row: the buttons go beside the filter
        assert title_row is not None
        with title_row:
            if identity.can(Permission.NETWORK_PRUNE, where):
                ui.button('Prune', icon='cleaning_services', on_click=self.prune).props(
                    'flat no-caps aria-label="Prune"'
                )
            if identity.can(Permission.NETWORK_CREATE, where):
                ui.button('New network', icon='add', on_click=self.new_network).props(
                    'flat no-caps aria-label="New network"'
                )

    async def new_network(self) -> None:
        await NewNetworkDialog(self.create).ask()

    async def create(self, values: dict[str, Any]) -> str | None:
        """The dialog's values → queued; a wrong request comes back as the dialog's sentence, a refusal as a notice."""
        try:
            await self.services.commands.create_network(self.services.sessions.current(), **values, endpoint=self.host)
        except CommandError as error:
            return sentence(error)
        except Forbidden as error:
            ui.notify(sentence(error), type='negative', multi_line=True)
        return None

    async def row_action(self, action: str, network_id: str) -> None:
        network = self.services.state.networks.get(network_id)
        if network is None:
            ui.notify('That network no longer exists.', type='warning')
            return
        if action == 'inspect':
            ui.navigate.to(network_path(network.name, network.endpoint))
        elif action == 'remove':
            await remove_network(self.services, network)

    async def prune(self) -> None:
        candidates = self.services.commands.network_prune_candidates(self.host)
        if not candidates:
            ui.notify('There are no unused networks to remove.', type='info')
            return
        confirmed = await PruneNetworksDialog(candidates).ask()
        if confirmed:
            await run_command(self.services, self.services.commands.prune_networks, confirmed, self.host)


async def remove_network(services: Services, network: NetworkRow) -> bool:
    """Asks, then queues the removal; True when it was queued."""
    containers = [row for row in services.state.containers.values() if row.endpoint == network.endpoint]
    connected = containers_by(containers, 'networks').get(network.name, [])
    if await RemoveNetworkDialog(network, [row.name for row in connected]).ask() is None:
        return False
    return await run_command(services, services.commands.remove_network, network.id, network.endpoint) is not None


def network_rows(
    services: Services, identity: Identity | None = None, host: str = LOCAL_ENDPOINT
) -> tuple[list[dict[str, Any]], str]:
    state = services.state
    members = containers_by([row for row in state.containers.values() if row.endpoint == host], 'networks')
    networks = sorted(
        (
            network
            for network in state.networks.values()
            if network.endpoint == host
            and (identity is None or identity.can(Permission.NETWORK_READ, network.access_scope))
        ),
        key=lambda network: network.name,
    )
    return [row_dict(network, members.get(network.name, [])) for network in networks], f'{len(networks)} networks'


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
