"""/stacks: every compose stack of the host chosen in the switcher (``local`` when every host is shown), Berth's own
(files under BERTH_DATA_DIR/stacks that belong to that host) and the engine's (external), with its status live from
the container events; "New stack" (operators there) asks a name and opens the editor for a stack on that host."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from nicegui import ui

from components.frame import frame, page_identity
from components.hosts import single_host
from components.links import on_host, stack_path
from components.live_table import LiveTable
from components.stack_dialogs import NewStackDialog
from core.permissions import Identity, Permission, Scope
from core.stacks.listing import MANAGED, StackRow
from core.stacks.store import StackError, check_name
from core.state.model import CONTAINER_CHANGES

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

COLUMNS: list[dict[str, Any]] = [
    {'name': 'name', 'label': 'Name', 'field': 'name', 'sortable': True, 'align': 'left'},
    {'name': 'status', 'label': 'Status', 'field': 'status', 'sortable': True, 'align': 'left'},
    {'name': 'services', 'label': 'Services', 'field': 'services_text', 'align': 'left'},
    {'name': 'images', 'label': 'Images', 'field': 'images_text', 'align': 'left'},
    {'name': 'updated', 'label': 'Updated', 'field': 'updated', 'sortable': True, 'align': 'left'},
    {'name': 'source', 'label': 'Source', 'field': 'source', 'sortable': True, 'align': 'left'},
]
# Vue interpolation only: project, service and image names come from the engine
NAME_CELL = (
    '<q-td :props="props"><a :href="props.row.href" class="text-primary font-mono">{{ props.row.name }}</a></q-td>'
)
LIST_CELL = '<q-td :props="props"><div v-for="item in props.row.{field}" :key="item">{{{{ item }}}}</div></q-td>'
SOURCE_CELL = (
    "<q-td :props=\"props\"><q-badge :color=\"props.row.source === 'managed' ? 'primary' : 'blue-grey'\" "
    ':label="props.row.source" /></q-td>'
)


def register(services: Services) -> None:
    @ui.page('/stacks')
    async def stacks_page() -> None:
        identity = page_identity(services, Permission.STACK_READ, 'see stacks')
        if identity is None:
            return
        await services.state.first_sync()
        with frame(services, identity, 'Stacks'):
            await StacksView(services, identity).load()


class StacksView:
    def __init__(self, services: Services, identity: Identity) -> None:
        self.services = services
        self.identity = identity
        self.host = single_host(services)  # one host at a time: a stack's name is its compose project's, per engine
        self.here = Scope(endpoint=self.host)
        self.managed: dict[str, tuple[list[str], float]] = {}
        self.live = LiveTable(
            services,
            title='Stacks' + on_host(self.host),
            columns=COLUMNS,
            row_key='name',
            slots={
                'body-cell-name': NAME_CELL,
                'body-cell-services': LIST_CELL.format(field='services'),
                'body-cell-images': LIST_CELL.format(field='images'),
                'body-cell-source': SOURCE_CELL,
            },
            changes=CONTAINER_CHANGES,
            rows=self.rows,
            toolbar=self.toolbar,
        )

    def toolbar(self) -> None:
        if self.identity.can(Permission.STACK_DEPLOY, self.here):
            ui.button('New stack', icon='add', on_click=self.new_stack).props('flat no-caps aria-label="New stack"')

    async def load(self) -> None:
        stacks = self.services.commands.stacks
        if stacks is not None:
            self.managed = await asyncio.to_thread(stacks.overview, self.host)
        self.live.render()

    def rows(self) -> tuple[list[dict[str, Any]], str]:
        if not self.identity.can(Permission.STACK_READ, self.here):  # no role on this host: its stacks are left out
            return [], 'no stacks you may see on this host'
        rows = [row_dict(stack) for stack in self.services.commands.stack_rows(self.managed, self.host)]
        managed = sum(1 for row in rows if row['source'] == MANAGED)
        return rows, f'{len(rows)} stacks, {managed} managed by Berth'

    async def new_stack(self) -> None:
        name = await NewStackDialog(self.name_problem)
        if name:
            ui.navigate.to(stack_path(name, self.host))

    async def name_problem(self, name: str) -> str:
        try:
            check_name(name)
        except StackError as error:
            return f'{error}.'
        stacks = self.services.commands.stacks
        if stacks is not None and await asyncio.to_thread(stacks.exists, name):
            where = await asyncio.to_thread(stacks.endpoint, name)
            return f'A stack named {name} exists already{on_host(where)}.'
        if any(row.name == name for row in self.services.commands.stack_rows({}, self.host)):
            return f'A stack named {name} runs on the engine already: open it to adopt it.'
        return ''


def row_dict(stack: StackRow) -> dict[str, Any]:
    return {
        'name': stack.name,
        'href': stack_path(stack.name, stack.endpoint),
        'status': stack.status,
        'services': stack.services,
        'services_text': ', '.join(stack.services),
        'images': stack.images,
        'images_text': ', '.join(stack.images),
        'updated': time.strftime('%Y-%m-%d %H:%M', time.localtime(stack.updated)) if stack.updated else '',
        'source': stack.source,
    }
