"""A page's table of one kind of engine resource, live from the state: title, summary, filter, and a re-render
(coalesced, while the tab is connected: components/tab_render.py) when one of the given kinds of change arrives.
Volumes and networks use it."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from nicegui import ui

from components.frame import on_client_delete
from components.tab_render import TabRender
from core.state.model import ChangeKind, StateChange

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

COALESCE_SECONDS = 0.015


class LiveTable:
    def __init__(
        self,
        services: Services,
        *,
        title: str,
        columns: list[dict[str, Any]],
        row_key: str,
        slots: dict[str, str],
        changes: Collection[ChangeKind],
        rows: Callable[[], tuple[list[dict[str, Any]], str]],  # the rows, and the summary beside the title
        toolbar: Callable[[], None] | None = None,  # lays out the page's buttons, right of the filter
    ) -> None:
        self.changes = changes
        self.rows = rows
        with ui.row().classes('w-full items-center gap-3'):
            ui.label(title).classes('text-h5')
            self.summary = ui.label().classes('text-caption')
            ui.space()
            self.search = (
                ui.input(placeholder='Filter')
                .props(f'clearable dense outlined aria-label="Filter {title.lower()}"')
                .classes('w-64')
            )
            if toolbar is not None:
                toolbar()
        self.table = ui.table(columns=columns, rows=[], row_key=row_key, pagination={'rowsPerPage': 50})
        self.table.props('flat bordered dense wrap-cells').classes('w-full')
        for name, template in slots.items():
            self.table.add_slot(name, template)
        self.table.bind_filter_from(self.search, 'value')
        self.render()
        self._renders = TabRender(self.render, COALESCE_SECONDS)
        on_client_delete(services.state.subscribe(self.on_state))

    def on_state(self, change: StateChange) -> None:
        if change.kind in self.changes:
            self._renders.request()

    def render(self) -> None:
        self.table.rows, self.summary.text = self.rows()
