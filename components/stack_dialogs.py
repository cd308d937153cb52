"""Dialogs of the stack pages: a new stack's name, taking a stack down, the diff of two versions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from core.stacks.store import Version


class NewStackDialog(ui.dialog):
    """Asks for the name; ``check`` answers a sentence when it cannot be used ('' when it can)."""

    def __init__(self, check: Callable[[str], Awaitable[str]]) -> None:
        super().__init__()
        self.check = check
        with self, ui.card().classes('gap-2 w-96').props('role=dialog aria-label="New stack"'):
            ui.label('New stack').classes('text-h6')
            self.name = (
                ui.input('Name', placeholder='shop')
                .props('outlined dense autofocus aria-label="Name"')
                .classes('w-full')
                .mark('stack-name')
                .on('keydown.enter', self.accept)
            )
            self.error = ui.label().classes('text-negative text-caption').props('role=alert')
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                ui.button('Create', on_click=self.accept).props('aria-label="Create stack"')

    async def accept(self) -> None:
        name = (self.name.value or '').strip()
        problem = await self.check(name)
        if problem:
            self.error.text = problem
            return
        self.submit(name)


class DownDialog(ui.dialog):
    """Asks before taking a stack down; offers removing its named volumes too."""

    def __init__(self, name: str) -> None:
        super().__init__()
        with self, ui.card().classes('gap-2').props('role=dialog aria-label="Take the stack down"'):
            ui.label(f'Take {name} down?').classes('text-h6')
            ui.label('Its containers and networks are removed; its files and versions stay.').classes('text-body2')
            self.volumes = ui.checkbox('Also remove its volumes (their data is lost)')
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                ui.button(
                    'Down', color='negative', on_click=lambda: self.submit({'remove_volumes': self.volumes.value})
                ).props('aria-label="Confirm down"')

    async def ask(self) -> dict[str, Any] | None:
        result = await self
        self.clear()
        self.delete()
        return result  # type: ignore[no-any-return]


class DiffDialog(ui.dialog):
    """Two versions side by side as a unified diff (read-only editor: the text is never HTML)."""

    def __init__(self, versions: list[Version], diff: Callable[[int, int], Awaitable[str]]) -> None:
        super().__init__()
        self.diff = diff
        options = {version.number: version.title for version in versions}
        newest = versions[0].number
        older = versions[1].number if len(versions) > 1 else newest
        with self, ui.card().classes('gap-2 w-full').style('max-width: 64rem').props('role=dialog aria-label="Diff"'):
            ui.label('Compare versions').classes('text-h6')
            with ui.row().classes('w-full gap-3 items-center'):
                self.older = ui.select(options, value=older, label='From').props('outlined dense aria-label="From"')
                self.newer = ui.select(options, value=newest, label='To').props('outlined dense aria-label="To"')
                ui.button('Compare', on_click=self.show).props('aria-label="Compare"')
            self.text = (
                ui.codemirror('', language='diff')
                .classes('w-full h-96 border rounded-borders')
                .props('aria-label="Differences"')
            )
            self.text.disable()
            with ui.row().classes('w-full justify-end'):
                ui.button('Close', on_click=lambda: self.submit(None)).props('flat')

    async def show(self) -> None:
        text = await self.diff(int(self.older.value), int(self.newer.value))
        self.text.value = text or '(no differences)'
