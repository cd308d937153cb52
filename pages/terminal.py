"""/containers/{name-or-id}/terminal: terminals into one container, several at once, in tabs; and the same
workspace as the content of the container page's Terminal tab."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import background_tasks, ui

from components.container_access import reachable_row, sentence
from components.exec_terminal import PERMISSION, WHAT, ExecTerminal
from components.frame import frame, page_identity
from components.links import HOSTS, container_path
from components.terminal_access import refusal_for
from core.permissions import ANYWHERE, LOCAL_ENDPOINT, Forbidden, require
from core.state.containers import ContainerRow
from core.streams.exec_session import ExecRequest

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

FULL_WINDOW_HEIGHT = 'calc(100vh - 260px)'
PANEL_HEIGHT = '65vh'


def register(services: Services) -> None:
    """Adds the full-window terminal page (the system object ends every open terminal session when it stops)."""

    @ui.page('/containers/{name_or_id}/terminal')
    @ui.page(HOSTS + '/containers/{name_or_id}/terminal')
    async def terminal_page(name_or_id: str, endpoint: str = LOCAL_ENDPOINT) -> None:
        identity = page_identity(services, PERMISSION, WHAT, own=True)
        if identity is None:
            return
        await services.state.first_sync(endpoint=endpoint)
        with frame(services, identity, f'Terminal · {name_or_id}'):
            row = reachable_row(services, identity, PERMISSION, WHAT, name_or_id, endpoint, action='container.exec')
            if row is None:
                ui.link('Back to containers', '/containers')
                return
            with ui.row().classes('w-full items-center gap-2'):
                ui.link('Containers', '/containers')
                ui.label('/')
                ui.link(row.name, container_path(row.name, row.endpoint))
                ui.label('/ Terminal').classes('text-h6')
            TerminalWorkspace(services, row, height=FULL_WINDOW_HEIGHT, open_first=True)


def terminal_panel(services: Services, container_id: str) -> None:
    """Builds the content of the container page's Terminal tab; call it inside the tab panel.

    Viewers, and operators where the container needs an admin, see a sentence saying why they cannot open a terminal
    (each terminal checks again when it opens). Nothing runs until the user clicks 'New terminal', so a tab that is
    never opened costs nothing but one inspect."""
    row = services.state.containers.get(container_id) or services.state.find(container_id)
    try:
        identity = require(services.sessions.current(), PERMISSION, WHAT, row.scope if row is not None else ANYWHERE)
    except Forbidden as refusal:
        ui.label(sentence(str(refusal))).props('role=alert')
        return
    if row is None:
        ui.label('This container no longer exists.')
        return
    content = ui.column().classes('w-full gap-2')

    async def fill() -> None:
        refusal = await refusal_for(services, identity.role, row.id)
        if content.is_deleted:
            return
        with content:
            if refusal:
                ui.label(refusal).props('role=alert')
                return
            with ui.row().classes('w-full justify-end'):
                ui.link(
                    'Open terminals in a full window', container_path(row.name, row.endpoint, '/terminal'), new_tab=True
                )
            TerminalWorkspace(services, row, height=PANEL_HEIGHT, open_first=False)

    background_tasks.create(fill(), name='terminal tab')


class TerminalWorkspace(ui.column):
    """What to run (command, user, working directory, or attach), and one tab per terminal, each its own session."""

    def __init__(self, services: Services, row: ContainerRow, *, height: str, open_first: bool) -> None:
        super().__init__()
        self.services = services
        self.row = row
        self.count = 0
        self.classes('w-full gap-2')
        with self:
            with ui.row().classes('w-full items-center gap-2'):
                self.mode = ui.toggle({'exec': 'Command', 'attach': 'Attach to main process'}, value='exec').props(
                    'dense no-caps'
                )
                self.command = (
                    ui.input('Command', placeholder='auto: bash if present, else sh')
                    .props('dense outlined clearable')
                    .classes('w-72')
                )
                self.user = ui.input('User', placeholder='image default').props('dense outlined').classes('w-36')
                self.workdir = (
                    ui.input('Working directory', placeholder='image default').props('dense outlined').classes('w-48')
                )
                for field in (self.command, self.user, self.workdir):
                    field.bind_enabled_from(self.mode, 'value', backward=lambda mode: mode == 'exec')
                    field.on('keydown.enter', self.add)
                ui.button('New terminal', icon='add', on_click=self.add).props('no-caps')
            self.tabs = ui.tabs().props('dense align=left no-caps').classes('w-full')
            self.panels = ui.tab_panels(self.tabs).props('keep-alive').classes('w-full').style(f'height: {height}')
        if open_first:
            self.add()

    def add(self) -> None:
        """Opens one more terminal, in its own tab, with what the fields say now."""
        attach = self.mode.value == 'attach'
        request = (
            ExecRequest(container_id=self.row.id, attach=True)
            if attach
            else ExecRequest(
                container_id=self.row.id,
                command=(self.command.value or '').strip(),
                user=(self.user.value or '').strip(),
                workdir=(self.workdir.value or '').strip(),
            )
        )
        self.count += 1
        name = f'terminal-{self.count}'
        label = 'attach' if attach else (request.command or 'shell')
        with self.tabs:
            tab = ui.tab(name, f'{self.count}: {label[:24]}')
        with self.panels, ui.tab_panel(tab).classes('q-pa-none h-full') as panel:
            ExecTerminal(self.services, request, container_name=self.row.name, endpoint=self.row.endpoint)
        with tab:
            ui.button(icon='close').props('flat dense round size=xs aria-label="Close terminal"').mark(
                'close-terminal'
            ).on('click.stop', lambda: self.close_terminal(tab, panel))
        self.tabs.value = name

    def close_terminal(self, tab: ui.tab, panel: ui.tab_panel) -> None:
        """Closes one terminal; its session ends with its element."""
        was_current = self.tabs.value == tab.props['name']
        self.tabs.remove(tab)
        self.panels.remove(panel)
        if was_current:
            remaining = [child for child in self.tabs.default_slot.children if isinstance(child, ui.tab)]
            self.tabs.value = remaining[-1].props['name'] if remaining else None
