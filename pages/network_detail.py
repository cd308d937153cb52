"""/networks/{name-or-id}: what a network is (driver, scope, addresses, flags, labels, options), the containers on it
with their addresses and aliases, connect and disconnect, the raw inspect data. Live: it reads the network again when
the network or one of its containers changes."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from nicegui import ui

from components.frame import frame, on_client_delete, page_identity
from components.links import HOSTS, container_path, on_host
from components.network_dialogs import DisconnectDialog, sentence
from core.commands.network_spec import check_ipv4, parse_aliases
from core.docker.client import describe_error
from core.docker.reads import Gone
from core.errors import CommandError
from core.permissions import LOCAL_ENDPOINT, Forbidden, Identity, Permission
from core.state.containers import ContainerRow, containers_by
from core.state.model import CONTAINER_CHANGES, NETWORK_CHANGES, ChangeKind, StateChange
from core.state.networks import NetworkRow, find_network

from .container_detail import section
from .images import run_command
from .networks import remove_network

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

COALESCE_SECONDS = 0.015
MEMBER_HEADINGS = ('Container', 'State', 'IPv4', 'IPv6', 'MAC', 'Aliases')


def register(services: Services) -> None:
    @ui.page('/networks/{name_or_id}')
    @ui.page(HOSTS + '/networks/{name_or_id}')
    async def network_page(name_or_id: str, endpoint: str = LOCAL_ENDPOINT) -> None:
        identity = page_identity(services, Permission.NETWORK_READ, 'inspect networks')
        if identity is None:
            return
        await services.state.first_sync(endpoint=endpoint)
        with frame(services, identity, name_or_id):
            row = find_network(services.state.networks.values(), name_or_id, endpoint)
            if row is None:
                ui.label(f'No network named or with id "{name_or_id}"{on_host(endpoint)}.').classes('text-h6')
                ui.link('Back to networks', '/networks')
                return
            await NetworkDetail(services, row, identity).load()


class NetworkDetail:
    def __init__(self, services: Services, row: NetworkRow, identity: Identity) -> None:
        self.services = services
        self.network = row
        allowed = identity.can(Permission.NETWORK_CONNECT, row.access_scope)
        self.can_disconnect = allowed and row.driver not in ('host', 'null')  # the engine keeps those as they are
        self.can_connect = allowed and row.driver == 'bridge'  # the only networks containers are connected to here
        self.member_ids: set[str] = set()
        self.gone = False
        self._pending: asyncio.TimerHandle | None = None
        self._loading = self._again = False
        with ui.row().classes('w-full items-center gap-2'):
            ui.link('Networks', '/networks')
            ui.label('/')
            self.title = ui.label(row.name).classes('text-h5 break-all')
            for flag, shown in (('built-in', row.built_in), ('internal', row.internal), ('attachable', row.attachable)):
                if shown:
                    ui.badge(flag, color='blue-grey')
            ui.space()
            if identity.can(Permission.NETWORK_REMOVE, row.access_scope) and not row.built_in:
                ui.button(icon='delete', on_click=self.remove).props('flat round aria-label="Remove" title="Remove"')
        self.vanished = ui.label().classes('text-h6 text-negative').props('role=alert')
        self.vanished.set_visibility(False)
        with ui.tabs() as tabs:
            ui.tab('overview', 'Overview')
            ui.tab('raw', 'Raw JSON')
        with ui.tab_panels(tabs, value='overview').classes('w-full') as self.panels:
            with ui.tab_panel('overview'):
                self.overview = ui.column().classes('w-full gap-4')
                with ui.card().classes('w-full'):
                    self.members_title = ui.label('Connected containers').classes('text-subtitle1 text-weight-medium')
                    self.members = ui.column().classes('w-full gap-1')
                if self.can_connect:
                    self.connect_form()
            with ui.tab_panel('raw'):
                self.raw = ui.code('', language='json').classes('w-full')
        on_client_delete(services.state.subscribe(self.on_state))

    def connect_form(self) -> None:
        with ui.card().classes('w-full gap-2').props('role=form aria-label="Connect container"'):
            ui.label('Connect container').classes('text-subtitle1 text-weight-medium')
            with ui.row().classes('w-full items-start gap-2'):
                self.container = (
                    ui.select({}, label='Container', with_input=True).props('aria-label="Container"').classes('w-64')
                )
                self.aliases = (
                    ui.input('Aliases', placeholder='db, cache', validation=alias_problem)
                    .props('aria-label="Aliases" autocomplete=off')
                    .classes('w-64')
                )
                self.ipv4 = (
                    ui.input('IPv4 address', placeholder='optional', validation=self.ipv4_problem)
                    .props('aria-label="IPv4 address" autocomplete=off')
                    .classes('w-48')
                )
                self.connect_button = ui.button('Connect', icon='link', on_click=self.connect).props(
                    'aria-label="Connect"'
                )
            self.connect_error = ui.label().classes('text-negative').props('role=alert')
        self.update_choices()

    def ipv4_problem(self, text: str | None) -> str | None:
        if not (text or '').strip():
            return None
        try:
            check_ipv4(text or '', self.network.subnets, self.network.gateways)
        except ValueError as error:
            return sentence(str(error))
        return None

    def update_choices(self) -> None:
        """The containers of this endpoint not yet on the network (from the state: no engine call)."""
        if not self.can_connect:
            return
        choices = {
            row.id: row.name
            for row in sorted(self.services.state.containers.values(), key=lambda row: row.name)
            if row.endpoint == self.network.endpoint and self.network.name not in row.networks
        }
        if choices != self.container.options:  # most container changes do not change the choices
            self.container.set_options(choices, value=self.container.value if self.container.value in choices else None)

    async def connect(self) -> None:
        self.connect_error.text = ''
        if not (self.aliases.validate() and self.ipv4.validate()):
            return
        if not self.container.value:
            self.connect_error.text = 'Choose the container to connect.'
            return
        try:
            await self.services.commands.connect_network(
                self.services.sessions.current(),
                self.network.id,
                str(self.container.value),
                aliases=str(self.aliases.value or ''),
                ipv4=str(self.ipv4.value or ''),
                endpoint=self.network.endpoint,
            )
        except CommandError as error:
            self.connect_error.text = f'{sentence(str(error))}.'
            return
        except Forbidden as error:
            ui.notify(f'{sentence(str(error))}.', type='negative', multi_line=True)
            return
        self.aliases.value = self.ipv4.value = ''
        self.container.value = None

    async def disconnect(self, member: ContainerRow) -> None:
        answer = await DisconnectDialog(member.name, self.network.name).ask()
        if answer is not None:
            await run_command(
                self.services,
                self.services.commands.disconnect_network,
                self.network.id,
                member.id,
                force=bool(answer['force']),
                endpoint=self.network.endpoint,
            )

    async def remove(self) -> None:
        await remove_network(self.services, self.network)

    def on_state(self, change: StateChange) -> None:
        if self.gone:
            return
        if change.kind in NETWORK_CHANGES:
            if change.kind == ChangeKind.NETWORK_RESET or change.network_id == self.network.id:
                self.schedule()
        elif change.kind in CONTAINER_CHANGES:
            self.update_choices()
            row = self.services.state.containers.get(change.container_id)
            if (
                change.kind == ChangeKind.RESET
                or change.container_id in self.member_ids
                or (row is not None and self.network.name in row.networks)
            ):
                self.schedule()

    def schedule(self) -> None:
        if self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(COALESCE_SECONDS, self._flush)

    def _flush(self) -> None:
        self._pending = None
        self.title.client.safe_invoke(self.load)

    async def load(self) -> None:
        """Reads the network (and its containers' settings on it) again; one read at a time, the last change wins."""
        if self._loading:
            self._again = True
            return
        self._loading = True
        try:
            self._again = True
            while self._again and not self.gone:
                self._again = False
                await self._load_once()
        finally:
            self._loading = False

    async def _load_once(self) -> None:
        row = self.services.state.networks.get(self.network.id)
        if row is None:
            self.show_gone()
            return
        self.network = row
        members = containers_by(
            (member for member in self.services.state.containers.values() if member.endpoint == row.endpoint),
            'networks',
        ).get(row.name, [])
        try:
            reads = self.services.host_reads(row.endpoint)
            data = await reads.network(row.id)
            settings = await reads.network_endpoints(row.name, [member.id for member in members])
        except Gone:
            self.show_gone()
            return
        except Exception as error:  # daemon away: say so, keep the page
            self.overview.clear()
            with self.overview:
                ui.label(f'Could not read the network: {describe_error(error)}').classes('text-negative')
            return
        self.raw.content = json.dumps(data, indent=2, sort_keys=True)
        self.overview.clear()
        with self.overview:
            render_facts(data)
        self.show_members(members, settings, data.get('Containers') or {})

    def show_members(
        self, members: list[ContainerRow], settings: dict[str, dict[str, Any]], running: dict[str, Any]
    ) -> None:
        self.member_ids = {member.id for member in members}
        self.members_title.text = f'Connected containers ({len(members)})'
        self.members.clear()
        with self.members:
            if not members:
                ui.label('No container is connected.').classes('text-caption')
                return
            columns = f'repeat({len(MEMBER_HEADINGS)}, minmax(6rem, auto))' + (' auto' if self.can_disconnect else '')
            with ui.grid(columns=columns).classes('w-full gap-x-4 gap-y-1 items-center'):
                for heading in MEMBER_HEADINGS + (('',) if self.can_disconnect else ()):
                    ui.label(heading).classes('text-weight-medium')
                for member in members:
                    own = settings.get(member.id) or {}
                    live = running.get(member.id) or {}
                    ui.link(member.name, container_path(member.name, member.endpoint)).classes('break-all')
                    ui.label(member.state)
                    ui.label(own.get('IPAddress') or str(live.get('IPv4Address') or '').split('/')[0] or '—')
                    ui.label(own.get('GlobalIPv6Address') or str(live.get('IPv6Address') or '').split('/')[0] or '—')
                    ui.label(own.get('MacAddress') or live.get('MacAddress') or '—').classes('font-mono text-sm')
                    aliases = [alias for alias in own.get('Aliases') or [] if not member.id.startswith(alias)]
                    ui.label(', '.join(aliases) or '—').classes('break-all')
                    if self.can_disconnect:
                        button = ui.button('Disconnect', on_click=lambda member=member: self.disconnect(member))
                        button.props('flat dense no-caps').mark(f'disconnect-{member.name}')
                        button.props['aria-label'] = f'Disconnect {member.name}'

    def show_gone(self) -> None:
        self.gone = True
        self.vanished.text = f'The network {self.network.name} no longer exists: it was removed.'
        self.vanished.set_visibility(True)
        self.panels.set_visibility(False)


def render_facts(data: dict[str, Any]) -> None:
    row = NetworkRow.from_inspect(data)
    config = (data.get('IPAM') or {}).get('Config') or []
    section(
        'General',
        [
            ('Id', row.id),
            ('Name', row.name),
            ('Driver', row.driver),
            ('Scope', row.scope),
            ('Created', row.created),
            ('Internal', 'yes (no route out)' if row.internal else 'no'),
            ('Attachable', 'yes' if row.attachable else 'no'),
            ('IPv6', 'enabled' if data.get('EnableIPv6') else 'disabled'),
        ],
    )
    ranges = ', '.join(str(entry['IPRange']) for entry in config if entry.get('IPRange'))
    section(
        'Addresses',
        [
            ('Subnets', ', '.join(row.subnets) or 'none'),
            ('Gateways', ', '.join(row.gateways) or 'none'),
            ('IP ranges', ranges or 'the whole subnet'),
        ],
    )
    section('Labels', sorted(row.labels.items()))
    section('Options', sorted((str(key), str(value)) for key, value in (data.get('Options') or {}).items()))


def alias_problem(text: str | None) -> str | None:
    try:
        parse_aliases(text or '')
    except ValueError as error:
        return sentence(str(error))
    return None
