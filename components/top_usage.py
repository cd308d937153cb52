"""TopUsageList: the dashboard's busiest containers by one figure: name (a link), the figure, how old it is."""

from __future__ import annotations

from dataclasses import dataclass

from nicegui import ui

from components.links import container_path


@dataclass(kw_only=True, slots=True, frozen=True)
class TopEntry:
    name: str
    endpoint: str
    figure: str  # '12.5 %', '120 MB / 2 GB'
    age: float  # seconds since it was sampled


class TopUsageList(ui.column):
    def __init__(self, title: str) -> None:
        super().__init__()
        self.title = title
        self.classes('gap-1 min-w-72')
        with self:
            ui.label(title).classes('text-subtitle1 text-weight-medium')
            self.rows = ui.column().classes('w-full gap-0').props(f'role=list aria-label="{title}"')
        self._shown: list[tuple[str, str, str, int]] | None = None

    @property
    def names(self) -> list[str]:
        """The containers listed now, first to last."""
        return [shown[0] for shown in self._shown or []]

    def show(self, entries: list[TopEntry]) -> None:
        """Re-renders only when what it says changed (ages in whole seconds)."""
        shown = [(entry.name, entry.endpoint, entry.figure, int(entry.age)) for entry in entries]
        if shown == self._shown:
            return
        self._shown = shown
        self.rows.clear()
        with self.rows:
            if not entries:
                ui.label('No figures yet.').classes('text-caption')
            for entry in entries:
                with ui.row().classes('w-full no-wrap items-center gap-2').props('role=listitem'):
                    ui.link(entry.name, container_path(entry.name, entry.endpoint)).classes('grow break-all')
                    ui.label(entry.figure).classes('font-mono text-right')
                    ui.label(f'{int(entry.age)} s ago').classes('text-caption w-16 text-right')
