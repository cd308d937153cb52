"""/networks: every network, live from the event stream: driver, scope, subnets, gateways, the containers on it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import ui

from components.frame import frame, page_identity
from components.links import js_container_href
from components.live_table import LiveTable
from core.permissions import Permission
from core.state.containers import ContainerRow, containers_by, parse_time
from core.state.model import CONTAINER_CHANGES, NETWORK_CHANGES
from core.state.networks import NetworkRow

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
            LiveTable(
                services,
                title='Networks',
                columns=COLUMNS,
                row_key='id',
                slots={'body-cell-name': NAME_CELL, 'body-cell-members': MEMBERS_CELL},
                changes=NETWORK_CHANGES | CONTAINER_CHANGES,
                rows=lambda: network_rows(services),
            )


def network_rows(services: Services) -> tuple[list[dict[str, Any]], str]:
    state = services.state
    members = containers_by(state.containers.values(), 'networks')
    networks = sorted(state.networks.values(), key=lambda network: network.name)
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
