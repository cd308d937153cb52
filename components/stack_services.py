"""A stack's services, live from the container rows: state, ports, image, whether an update is available, and
links to each container's logs, terminal and stats."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

from components.links import container_path
from core.stacks.listing import StackRow

# (endpoint, image reference, the image id the container runs) → True (a newer image is in the registry), False (up
# to date), None (not known): core/updates UpdateResults.available
UpdateCheck = Callable[[str, str, str], bool | None]


def unknown_update(endpoint: str, reference: str, image_id: str = '') -> bool | None:
    """Nothing is known (no registry check)."""
    return None


UPDATE_TEXT = {True: 'update available', False: 'up to date', None: 'unknown'}
COLUMNS: list[dict[str, Any]] = [
    {'name': 'service', 'label': 'Service', 'field': 'service', 'align': 'left', 'sortable': True},
    {'name': 'container', 'label': 'Container', 'field': 'container', 'align': 'left'},
    {'name': 'state', 'label': 'State', 'field': 'state', 'align': 'left'},
    {'name': 'ports', 'label': 'Ports', 'field': 'ports', 'align': 'left'},
    {'name': 'image', 'label': 'Image', 'field': 'image', 'align': 'left'},
    {'name': 'update', 'label': 'Update', 'field': 'update', 'align': 'left'},
    {'name': 'links', 'label': 'Open', 'field': 'container', 'align': 'right'},
]
# Vue interpolation only: names, images and ports come from the engine
CONTAINER_CELL = (
    '<q-td :props="props"><a v-if="props.row.href" :href="props.row.href" class="text-primary font-mono break-all">'
    '{{ props.row.container }}</a><span v-else class="text-caption">not created</span></q-td>'
)
STATE_CELL = (
    "<q-td :props=\"props\"><q-badge :color=\"props.row.state === 'running' ? 'positive' : 'grey'\" "
    ':label="props.row.state" /> <span class="text-caption">{{ props.row.health }}</span></q-td>'
)
PORTS_CELL = '<q-td :props="props"><div v-for="port in props.row.ports" :key="port">{{ port }}</div></q-td>'
UPDATE_CELL = (
    '<q-td :props="props"><q-badge v-if="props.row.update === \'update available\'" color="orange" '
    ':label="props.row.update" :aria-label="\'Update available for \' + props.row.image" />'
    '<span v-else class="text-caption">{{ props.row.update }}</span></q-td>'
)
LINKS_CELL = (
    '<q-td :props="props"><template v-if="props.row.href">'
    '<q-btn flat round dense icon="article" :href="props.row.href + \'/logs\'" '
    ':aria-label="\'Logs of \' + props.row.container" />'
    '<q-btn flat round dense icon="terminal" :href="props.row.href + \'/terminal\'" '
    ':aria-label="\'Terminal of \' + props.row.container" />'
    '<q-btn flat round dense icon="monitoring" :href="props.row.href + \'?tab=stats\'" '
    ':aria-label="\'Stats of \' + props.row.container" /></template></q-td>'
)


def service_rows(stack: StackRow, update_check: UpdateCheck) -> list[dict[str, Any]]:
    """One row per container of each service; a service without containers gets one row saying so."""
    rows = []
    for service, containers in sorted(stack.service_containers().items()):
        if not containers:
            rows.append(
                {
                    'key': service,
                    'service': service,
                    'container': '',
                    'href': '',
                    'state': 'not created',
                    'health': '',
                    'ports': [],
                    'image': '',
                    'update': '',
                }
            )
        for row in containers:
            rows.append(
                {
                    'key': row.id,
                    'service': service,
                    'container': row.name,
                    'href': container_path(row.name, row.endpoint),
                    'state': row.state,
                    'health': row.health,
                    'ports': row.ports,
                    'image': row.image,
                    'update': UPDATE_TEXT[update_check(row.endpoint, row.image, row.image_id)],
                }
            )
    return rows


class StackServicesTable(ui.table):
    def __init__(self, update_check: UpdateCheck = unknown_update) -> None:
        super().__init__(columns=COLUMNS, rows=[], row_key='key')
        self.update_check = update_check
        self.props('flat bordered dense wrap-cells aria-label="Services"').classes('w-full')
        for name, template in (
            ('body-cell-container', CONTAINER_CELL),
            ('body-cell-state', STATE_CELL),
            ('body-cell-ports', PORTS_CELL),
            ('body-cell-update', UPDATE_CELL),
            ('body-cell-links', LINKS_CELL),
        ):
            self.add_slot(name, template)

    def show(self, stack: StackRow) -> None:
        self.rows = service_rows(stack, self.update_check)
