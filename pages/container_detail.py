"""/containers/{name-or-id}: inspect data rendered readably, logs, terminals, live stats, and raw JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nicegui import ui

from components.container_access import reachable_row
from components.environment_access import EnvironmentAccess
from components.frame import frame, on_client_delete, page_identity
from components.links import HOSTS
from components.stats_view import StatsView
from core.container_actions import CONTAINER_ACTIONS
from core.docker.client import describe_error
from core.docker.reads import Gone
from core.permissions import LOCAL_ENDPOINT, Identity, Permission
from core.state.containers import ContainerRow
from core.state.model import ChangeKind, StateChange

from .actions import run_container_actions
from .logs import logs_panel
from .terminal import terminal_panel

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

WHAT = 'inspect containers'
VERBS = [(action.value, spec.label, spec.icon) for action, spec in CONTAINER_ACTIONS.items()]


def register(services: Services) -> None:
    @ui.page('/containers/{name_or_id}')
    @ui.page(HOSTS + '/containers/{name_or_id}')
    async def container_page(name_or_id: str, endpoint: str = LOCAL_ENDPOINT, tab: str = 'overview') -> None:
        identity = page_identity(services, Permission.CONTAINER_READ, WHAT, own=True)
        if identity is None:
            return
        await services.state.first_sync(endpoint=endpoint)
        with frame(services, identity, name_or_id):
            row = reachable_row(
                services, identity, Permission.CONTAINER_READ, WHAT, name_or_id, endpoint, action='container.inspect'
            )
            if row is None:
                ui.link('Back to containers', '/containers')
                return
            await ContainerDetail(services, row, identity, tab).load()


class ContainerDetail:
    def __init__(self, services: Services, row: ContainerRow, identity: Identity, tab: str = 'overview') -> None:
        self.services = services
        self.container_id = row.id
        self.environment = EnvironmentAccess(
            services,
            identity,
            action='container.reveal_env',
            target=row.name,
            admin_only=services.protection.container_is_protected(row.id, row.labels),
        )
        self.data: dict[str, Any] = {}
        with ui.row().classes('w-full items-center gap-2'):
            ui.link('Containers', '/containers')
            ui.label('/')
            self.title = ui.label(row.name).classes('text-h5')
            self.state_badge = ui.badge(row.state)
            ui.space()
            for action, verb, icon in VERBS:
                ui.button(
                    icon=icon,
                    on_click=lambda action=action: run_container_actions(services, action, [self.container_id]),
                ).props(f'flat round aria-label="{verb}" title="{verb}"').mark(verb)
        with ui.tabs() as tabs:
            ui.tab('overview', 'Overview')
            ui.tab('logs', 'Logs')
            ui.tab('terminal', 'Terminal')
            ui.tab('stats', 'Stats')
            ui.tab('raw', 'Raw JSON')
        tab = tab if tab in ('overview', 'logs', 'terminal', 'stats', 'raw') else 'overview'  # ?tab=stats: a link
        with ui.tab_panels(tabs, value=tab).classes('w-full').props('keep-alive'):
            with ui.tab_panel('overview'):
                self.overview = ui.column().classes('w-full gap-4')
            with ui.tab_panel('logs'):
                logs_panel(services, self.container_id)
            with ui.tab_panel('terminal'):
                terminal_panel(services, self.container_id)
            with ui.tab_panel('stats'):
                self.stats = StatsView(services, row)
            with ui.tab_panel('raw'):
                self.raw = ui.code('', language='json').classes('w-full')
        # the shared stats stream is followed only while the Stats tab is shown
        tabs.on_value_change(lambda event: self.stats.show() if event.value == 'stats' else self.stats.hide())
        if tab == 'stats':
            self.stats.show()
        on_client_delete(services.state.subscribe(self.on_state))

    def on_state(self, change: StateChange) -> None:
        if change.kind == ChangeKind.RESET or change.container_id == self.container_id:
            row = self.services.state.containers.get(self.container_id)
            if row is None:
                self.state_badge.text = 'removed'
                return
            self.state_badge.text = row.state
            self.title.client.safe_invoke(self.load)

    async def load(self) -> None:
        try:
            data = await self.services.container_reads(self.container_id).container(self.container_id)
        except Gone:
            self.state_badge.text = 'removed'
            return
        except Exception as error:  # daemon away: say so, keep the page
            self.overview.clear()
            with self.overview:
                ui.label(f'Could not read the container: {describe_error(error)}').classes('text-negative')
            return
        self.data = data
        self.show()

    def show(self) -> None:
        shown = self.environment.redact(self.data)
        self.raw.content = json.dumps(shown, indent=2, sort_keys=True)
        self.overview.clear()
        with self.overview:
            render_overview(shown, lambda: self.environment.explain(self.data, self.show))


def render_overview(data: dict[str, Any], under_environment: Callable[[], None] = lambda: None) -> None:
    state = data.get('State') or {}
    config = data.get('Config') or {}
    host = data.get('HostConfig') or {}
    section(
        'General',
        [
            ('Id', data.get('Id', '')),
            ('Image', config.get('Image', '')),
            ('Created', data.get('Created', '')),
            ('Status', state.get('Status', '')),
            ('Started', state.get('StartedAt', '')),
            ('Finished', state.get('FinishedAt', '')),
            ('Exit code', state.get('ExitCode', '')),
            ('Health', (state.get('Health') or {}).get('Status', '—')),
            ('Restart policy', (host.get('RestartPolicy') or {}).get('Name', '')),
            ('Command', ' '.join(config.get('Entrypoint') or []) + ' ' + ' '.join(config.get('Cmd') or [])),
            ('Working directory', config.get('WorkingDir', '')),
            ('User', config.get('User', '') or 'root'),
        ],
    )
    ports = (data.get('NetworkSettings') or {}).get('Ports') or {}
    section(
        'Ports',
        [
            (
                port,
                ', '.join(f'{binding.get("HostIp")}:{binding.get("HostPort")}' for binding in bindings or [])
                or 'not published',
            )
            for port, bindings in sorted(ports.items())
        ],
    )
    section('Environment', environment_pairs(config.get('Env') or []))
    under_environment()
    section(
        'Mounts',
        [
            (
                mount.get('Destination', ''),
                f'{mount.get("Type")}: {mount.get("Source") or mount.get("Name")}'
                f'{" (read-only)" if not mount.get("RW", True) else ""}',
            )
            for mount in data.get('Mounts') or []
        ],
    )
    networks = (data.get('NetworkSettings') or {}).get('Networks') or {}
    section('Networks', [(name, network.get('IPAddress') or '') for name, network in sorted(networks.items())])
    section('Labels', sorted((config.get('Labels') or {}).items()))


def environment_pairs(items: list[str]) -> list[tuple[str, str]]:
    return [(name, value) for name, _, value in (str(item).partition('=') for item in items)]


def section(title: str, pairs: list[tuple[Any, ...]]) -> None:
    """A titled key/value grid; values are plain text (ui.label), never HTML."""
    with ui.card().classes('w-full'):
        ui.label(title).classes('text-subtitle1 text-weight-medium')
        if not pairs:
            ui.label('none').classes('text-caption')
            return
        with ui.grid(columns='minmax(8rem, max-content) 1fr').classes('w-full gap-x-4 gap-y-1'):
            for pair in pairs:
                ui.label(str(pair[0])).classes('text-weight-medium break-all')
                ui.label(str(pair[1]) if len(pair) > 1 else '').classes('break-all font-mono text-sm')
