"""/containers: the live table of every container, with filters, grouping and bulk actions; CPU and memory of the
running containers on the page shown, from the usage sampler while the page is open."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import ui

from components.container_table import ContainerTable
from components.frame import frame, on_client_delete, page_identity
from components.hosts import chosen_host, several_hosts
from components.links import on_host
from components.tab_render import TabRender
from components.update_badge import badge_cell
from core.container_actions import CONTAINER_ACTIONS
from core.jobs.store import Job, JobStatus, JobUpdate
from core.permissions import Identity, Permission, Scope
from core.state.containers import ContainerRow, ContainerState
from core.state.model import ChangeKind, StateChange
from core.streams.usage import Usage

from .actions import run_container_actions

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

STATES = [state.value for state in ContainerState if state is not ContainerState.REMOVING]
BULK = [(action.value, spec.label) for action, spec in CONTAINER_ACTIONS.items()]
COALESCE_SECONDS = 0.015
RECENT_USAGE_SECONDS = 15.0  # figures this fresh are shown at once; the sampler brings newer ones for the rest


def register(services: Services) -> None:
    @ui.page('/containers')
    def containers_page() -> None:
        identity = page_identity(services, Permission.CONTAINER_READ, 'see containers')
        if identity is None:
            return
        with frame(services, identity, 'Containers'):
            ContainersView(services, identity)


class ContainersView:
    """Lays out the toolbar and the table(s); re-renders (coalesced) whenever the state or the jobs change, and asks
    the usage sampler for the running containers on screen (in every table) until the page goes."""

    def __init__(self, services: Services, identity: Identity) -> None:
        self.services = services
        self.identity = identity  # a host where its role cannot read containers is left out
        self.host = chosen_host(services)  # None: every host
        self.hosts = (
            {endpoint.id: endpoint.name for endpoint in services.endpoints}
            if self.host is None and several_hosts(services)
            else None
        )
        self._renders = TabRender(self._flush, COALESCE_SECONDS)
        self.tables: dict[str, ContainerTable] = {}
        with ui.row().classes('w-full items-center gap-3'):
            ui.label('Containers' + (on_host(self.host) if self.host else '')).classes('text-h5')
            self.summary = ui.label().classes('text-caption')
            ui.space()
            self.search = (
                ui.input(placeholder='Filter')
                .props('clearable dense outlined aria-label="Filter containers"')
                .classes('w-64')
            )
            self.state_filter = (
                ui.select(STATES, multiple=True, label='State', on_change=self.render)
                .props('dense outlined clearable use-chips aria-label="State filter"')
                .classes('w-64')
            )
            self.grouped = ui.switch('Group by compose project', on_change=self.rebuild)
        with ui.row().classes('gap-1 items-center'):
            ui.label('Selected:').classes('text-caption')
            for action, verb in BULK:
                ui.button(verb, on_click=lambda action=action: self.bulk(action)).props(
                    f'dense flat no-caps aria-label="{verb} selected"'
                )
        self.body = ui.column().classes('w-full gap-2')
        self.usage = services.usage.want(('containers page', ui.context.client.id), ())
        on_client_delete(self.usage.release)
        self.rebuild()
        on_client_delete(services.usage.subscribe(self.on_usage))
        on_client_delete(services.state.subscribe(self.on_state))
        on_client_delete(services.jobs.subscribe(self.on_job))
        on_client_delete(services.updates.subscribe(lambda endpoint, references: self.render(fresh=True)))
        ui.timer(30, lambda: self.render(fresh=True))  # keeps 'Up 5 minutes' honest; never asks the daemon

    def on_state(self, change: StateChange) -> None:
        if change.kind != ChangeKind.ENGINE:
            self.schedule()

    def on_usage(self, figures: dict[str, Usage]) -> None:
        for table in self.tables.values():
            table.show_usage(figures)

    def on_screen(self) -> None:
        self.usage.update(container_id for table in self.tables.values() for container_id in table.running_on_screen)

    def on_job(self, job: Job, update: JobUpdate) -> None:
        if update.status != JobStatus.HEARTBEAT and job.target in self.services.state.containers:
            self.schedule()

    def schedule(self) -> None:
        """Renders at once (next loop turn), then at most once per COALESCE_SECONDS while changes keep coming; not
        while the tab is not connected (components/tab_render.py)."""
        self._renders.request()

    def _flush(self) -> None:
        if self.grouped.value and set(self.tables) != self.projects():
            self.rebuild()
        else:
            self.render()

    def host_rows(self) -> list[ContainerRow]:
        """The containers of the chosen host, or of every host."""
        rows = self.services.state.containers.values()
        hosts = {
            endpoint
            for endpoint in self.services.endpoints.ids
            if (self.host is None or endpoint == self.host)
            and self.identity.can(Permission.CONTAINER_READ, Scope(endpoint=endpoint))
        }
        return [row for row in rows if row.endpoint in hosts]

    def projects(self) -> set[str]:
        return {row.project for row in self.host_rows()}

    def visible_rows(self) -> list[ContainerRow]:
        states = set(self.state_filter.value or [])
        return [row for row in self.host_rows() if not states or row.state in states]

    def rebuild(self) -> None:
        self.body.clear()
        self.tables = {}
        with self.body:
            if not self.grouped.value:
                self.tables[''] = self._table(None)
            else:
                for project in sorted(self.projects(), key=lambda name: (name == '', name)):
                    with ui.expansion(project or 'Not in a compose project', value=True).classes('w-full'):
                        self.tables[project] = self._table(project or 'standalone')
        self.render()
        self.on_usage(self.services.usage.recent(RECENT_USAGE_SECONDS))

    def _table(self, title: str | None) -> ContainerTable:
        table = ContainerTable(
            self.row_action, title=title, on_screen=self.on_screen, updates=self.update_badge, hosts=self.hosts
        ).classes('w-full')
        table.bind_filter_from(self.search, 'value')
        return table

    def update_badge(self, row: ContainerRow) -> dict[str, Any] | None:
        """The registry names another image under the tag than the one this container runs."""
        return badge_cell(self.services.updates.status(row.endpoint, row.image, row.image_id))

    async def row_action(self, action: str, container_id: str) -> None:
        await run_container_actions(self.services, action, [container_id])
        # the click showed a spinner in the browser; say again what is busy (nothing, if cancelled or refused)
        self.render(resend=True)

    def render(self, *, fresh: bool = False, resend: bool = False) -> None:
        rows = self.visible_rows()
        busy = self.services.jobs.active_targets()
        shown = self.host_rows()
        running = sum(1 for row in shown if row.state == ContainerState.RUNNING)
        self.summary.text = f'{len(shown)} containers, {running} running'
        if not self.grouped.value:
            self.tables[''].show(rows, busy, fresh=fresh, resend=resend)
            return
        for project, table in self.tables.items():
            table.show([row for row in rows if row.project == project], busy, fresh=fresh, resend=resend)

    async def bulk(self, action: str) -> None:
        selected = [row['id'] for table in self.tables.values() for row in table.selected]
        if not selected:
            ui.notify('Select containers first (checkboxes on the left).', type='info')
            return
        await run_container_actions(self.services, action, selected)
