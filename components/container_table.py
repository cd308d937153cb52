"""ContainerTable: the live containers table with per-row action buttons (accessible names are the verbs)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from nicegui import ui
from nicegui.events import GenericEventArguments

from components.links import js_container_href
from core.container_actions import CONTAINER_ACTIONS
from core.state.containers import ContainerRow, ContainerState, parse_time
from core.state.images import format_size
from core.streams.usage import Usage

from .table_cells import RowAction, action_buttons_cell
from .table_rows import send_rows
from .update_badge import BADGE

COLUMNS: list[dict[str, Any]] = [
    {'name': 'name', 'label': 'Name', 'field': 'name', 'sortable': True, 'align': 'left'},
    {'name': 'image', 'label': 'Image', 'field': 'image', 'sortable': True, 'align': 'left'},
    {'name': 'state', 'label': 'State', 'field': 'state', 'sortable': True, 'align': 'left'},
    {'name': 'status', 'label': 'Status', 'field': 'status', 'align': 'left'},
    {'name': 'health', 'label': 'Health', 'field': 'health', 'sortable': True, 'align': 'left'},
    {'name': 'cpu', 'label': 'CPU %', 'field': 'cpu', 'align': 'right'},
    {'name': 'memory', 'label': 'Memory', 'field': 'memory', 'align': 'right'},
    {'name': 'ports', 'label': 'Ports', 'field': 'ports', 'align': 'left'},
    {'name': 'created', 'label': 'Created', 'field': 'created', 'sortable': True, 'align': 'left'},
    {'name': 'project', 'label': 'Compose project', 'field': 'project', 'sortable': True, 'align': 'left'},
    {'name': 'actions', 'label': 'Actions', 'field': 'id', 'align': 'right'},
]
HOST_COLUMN: dict[str, Any] = {'name': 'host', 'label': 'Host', 'field': 'host', 'sortable': True, 'align': 'left'}

# Which verbs make sense in which state; the server checks again when the action runs.
ROW_ACTIONS: list[RowAction] = [
    (action.value, spec.label, spec.icon, spec.vue_condition()) for action, spec in CONTAINER_ACTIONS.items()
]
STATE_COLORS = (
    "{running: 'positive', paused: 'warning', restarting: 'info', exited: 'grey', created: 'blue-grey', "
    "dead: 'negative'}"
)


NAME_CELL = (
    f'<q-td :props="props"><a :href="{js_container_href()}" class="text-primary">{{{{ props.row.name }}}}</a></q-td>'
)
STATE_CELL = (
    f'<q-td :props="props"><q-badge :color="({STATE_COLORS})[props.row.state] || \'grey\'" '
    ':label="props.row.state" /></q-td>'
)
IMAGE_CELL = f'<q-td :props="props">{{{{ props.row.image }}}}{BADGE}</q-td>'
PORTS_CELL = '<q-td :props="props"><div v-for="port in props.row.ports" :key="port">{{ port }}</div></q-td>'


SEARCHED_FIELDS = [
    column['field'] for column in [*COLUMNS, HOST_COLUMN] if column['name'] not in ('actions', 'cpu', 'memory')
]
PAGE_KEYS = ('page', 'rowsPerPage', 'sortBy', 'descending')
# the row, whether it is busy, its row dict, and the searched fields' text in lower case (see haystack)
RowEntry = tuple[ContainerRow, bool, dict[str, Any], str]
UpdateBadge = Callable[[ContainerRow], dict[str, Any] | None]  # a container → its "update available" badge, or None


class ContainerTable(ui.table):
    """A Quasar table of containers; row text goes through Vue interpolation only (escaped, never HTML).

    Paged on the server (``rowsNumber`` set): filter, sort and page are applied here, and the browser only ever
    receives the rows of the page it shows, and only when that page actually changed. So the server knows which
    running containers are on screen (:attr:`running_on_screen`, ``on_screen`` is called when they change): their
    CPU and memory figures come from :meth:`show_usage`; other rows leave those cells blank. ``updates`` gives a
    row's "update available" badge (core/updates); when the answers change, :meth:`show` with ``fresh``.
    """

    def __init__(
        self,
        on_action: Callable[[str, str], Awaitable[None]],
        *,
        title: str | None = None,
        on_screen: Callable[[], None] | None = None,
        updates: UpdateBadge | None = None,
        hosts: Mapping[str, str] | None = None,
    ) -> None:
        self.hosts = hosts  # endpoint id → name, when the table shows several hosts (then with a Host column)
        super().__init__(
            columns=[COLUMNS[0], HOST_COLUMN, *COLUMNS[1:]] if hosts is not None else COLUMNS,
            rows=[],
            row_key='id',
            selection='multiple',
            title=title,
            pagination={'rowsPerPage': 50, 'sortBy': 'name', 'descending': False, 'page': 1, 'rowsNumber': 0},
        )
        self._entries: dict[str, RowEntry] = {}
        self._usage: dict[str, Usage] = {}  # the latest figures of running containers in this table
        self._on_screen = on_screen
        self._updates = updates or (lambda row: None)
        self.running_on_screen: list[str] = []
        self.on('request', self._on_request, ['pagination'])  # page, sort or filter changed in the browser
        self.props('flat bordered dense wrap-cells binary-state-sort')
        self.add_slot('body-cell-name', NAME_CELL)
        self.add_slot('body-cell-image', IMAGE_CELL)
        self.add_slot('body-cell-state', STATE_CELL)
        self.add_slot('body-cell-ports', PORTS_CELL)
        self.add_slot('body-cell-actions', action_buttons_cell(ROW_ACTIONS, busy_spinner=True))
        self.on('row_action', lambda event: on_action(event.args['action'], event.args['id']))

    def show(self, rows: Iterable[ContainerRow], busy: set[str], *, fresh: bool = False, resend: bool = False) -> None:
        """Takes all containers; rebuilds only the row dicts of changed containers (all of them if ``fresh``).

        The page is sent only if it changed, or if ``resend`` (the browser changed it itself: a click's spinner).
        """
        now = datetime.now(UTC)
        previous, self._entries = self._entries, {}
        for row in rows:
            is_busy = row.id in busy
            entry = previous.get(row.id)
            if fresh or entry is None or entry[0] is not row or entry[1] != is_busy:  # the watcher replaces rows
                if row.state != ContainerState.RUNNING:
                    self._usage.pop(row.id, None)
                cells = row_dict(
                    row, now, is_busy, self._usage.get(row.id), self._updates(row), self._host(row.endpoint)
                )
                entry = (row, is_busy, cells, haystack(cells))
            self._entries[row.id] = entry
        for gone in [container_id for container_id in self._usage if container_id not in self._entries]:
            del self._usage[gone]
        if any(row['id'] not in self._entries for row in self.selected):
            self.selected = [row for row in self.selected if row['id'] in self._entries]
        self._send_page(force=resend)

    def show_usage(self, figures: Mapping[str, Usage]) -> None:
        """New CPU and memory figures (any containers): the running rows among them change, the page is sent if one
        of them is on it."""
        changed = False
        for container_id, usage in figures.items():
            entry = self._entries.get(container_id)
            if entry is None or entry[0].state != ContainerState.RUNNING:
                continue
            self._usage[container_id] = usage
            self._entries[container_id] = (entry[0], entry[1], {**entry[2], **usage_cells(usage)}, entry[3])
            changed = True
        if changed:
            self._send_page()

    def _host(self, endpoint: str) -> str:
        return self.hosts.get(endpoint, endpoint) if self.hosts is not None else endpoint

    @property
    def all_rows(self) -> list[dict[str, Any]]:
        """Every container's row dict (``rows`` holds only the page on screen)."""
        return [entry[2] for entry in self._entries.values()]

    def _on_request(self, event: GenericEventArguments) -> None:
        wanted = event.args['pagination']
        self._props['pagination'].update({key: wanted.get(key) for key in PAGE_KEYS})
        self._send_page(force=True)

    def _send_page(self, *, force: bool = False) -> None:
        text = str(self._props.get('filter') or '').lower()
        rows = [entry[2] for entry in self._entries.values() if text in entry[3]] if text else self.all_rows
        pagination = self._props['pagination']
        if pagination.get('sortBy'):
            key = pagination['sortBy']
            rows.sort(key=lambda row: str(row.get(key) or ''), reverse=bool(pagination.get('descending')))
        per_page = int(pagination.get('rowsPerPage') or 0) or max(len(rows), 1)
        page = max(1, min(int(pagination.get('page') or 1), -(-len(rows) // per_page)))
        shown = rows[(page - 1) * per_page : page * per_page]
        if force or shown != self.rows or (len(rows), page) != (pagination.get('rowsNumber'), pagination.get('page')):
            pagination.update(rowsNumber=len(rows), page=page)
            send_rows(self, shown)  # this element, with the page's rows only
        running = [row['id'] for row in shown if row['state'] == ContainerState.RUNNING]
        if running != self.running_on_screen:
            self.running_on_screen = running
            if self._on_screen is not None:
                self._on_screen()


def haystack(cells: Mapping[str, Any]) -> str:
    """The searched cells of a row dict in lower case, one string: the filter matches a row when its text is in one
    of them (NUL, which no cell holds, keeps a match from spanning two cells)."""
    return '\0'.join(str(cells[key]).lower() for key in SEARCHED_FIELDS)


def row_dict(
    row: ContainerRow,
    now: datetime,
    busy: bool,
    usage: Usage | None = None,
    update: dict[str, Any] | None = None,
    host: str = '',
) -> dict[str, Any]:
    created = parse_time(row.created)
    cells = usage_cells(usage) if usage is not None and row.state == ContainerState.RUNNING else NO_USAGE
    return {
        'id': row.id,
        'name': row.name,
        'endpoint': row.endpoint,
        'host': host or row.endpoint,
        'image': row.image,
        'state': row.state,
        'status': row.status_text(now),
        'health': row.health or '—',
        'ports': row.ports,
        'project': row.project,
        'created': created.strftime('%Y-%m-%d %H:%M') if created else '',
        'busy': busy,
        'update': update,  # the "update available" badge, or None
        **cells,
    }


NO_USAGE = {'cpu': '', 'memory': ''}


def usage_cells(usage: Usage) -> dict[str, str]:
    """CPU % of one CPU (as ``docker stats``: 250 % is two and a half CPUs busy) and memory used / limit."""
    return {
        'cpu': f'{usage.cpu_percent:.1f} %',
        'memory': f'{format_size(usage.memory_used)} / {format_size(usage.memory_limit)}',
    }
