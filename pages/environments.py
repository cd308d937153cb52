"""/environments ("My environments"): one card per dev environment, live from the state (containers labelled
``berth.environment``); developers see their own, operators and admins everyone's with the owner. Running cards show
CPU and memory (the usage sampler, while the page is open) and the idle time left (the idle watch); a card stopped for
idleness says so. "New environment" asks for a template and a name (a quota refusal is said in the dialog); "Open
terminal" is one click to /environments/{name}/terminal, a full-window terminal running the template's shell as its
user in its directory."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from nicegui import run, ui

from components.container_access import reachable_row, sentence
from components.environment_cards import EnvironmentCard
from components.environment_dialogs import DeleteEnvironmentDialog, HandOverDialog, NewEnvironmentDialog
from components.exec_terminal import PERMISSION as TERMINAL_PERMISSION
from components.exec_terminal import WHAT as TERMINAL_WHAT
from components.exec_terminal import ExecTerminal
from components.frame import back_link, frame, on_client_delete, page_identity
from components.links import container_path
from core.container_actions import ContainerAction
from core.environments.environment import IDLE_STOP_KIND, Environment, environments, usable_by
from core.errors import CommandError
from core.jobs.store import FINISHED, Job, JobStatus, JobUpdate
from core.permissions import LOCAL_ENDPOINT, Forbidden, Identity, Permission
from core.state.model import ChangeKind, StateChange
from core.streams.exec_session import ExecRequest
from core.streams.usage import Usage

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

WHAT = 'see environments'
TERMINAL_HEIGHT = 'calc(100vh - 150px)'
LIFECYCLE = {action.value for action in (ContainerAction.START, ContainerAction.STOP, ContainerAction.RESTART)}
RECENT_USAGE_SECONDS = 10.0  # figures this fresh are shown at once when the page opens


def register(services: Services) -> None:
    @ui.page('/environments')
    async def environments_page() -> None:
        identity = page_identity(services, Permission.CONTAINER_READ, WHAT, own=True)
        if identity is None:
            return
        await services.state.first_sync()
        with frame(services, identity, 'Environments'):
            EnvironmentsView(services, identity)

    @ui.page('/environments/{name_or_id}/terminal')
    async def environment_terminal_page(name_or_id: str) -> None:
        identity = page_identity(services, TERMINAL_PERMISSION, TERMINAL_WHAT, own=True)
        if identity is None:
            return
        await services.state.first_sync()
        with frame(services, identity, f'Terminal · {name_or_id}'):
            row = reachable_row(
                services,
                identity,
                TERMINAL_PERMISSION,
                TERMINAL_WHAT,
                name_or_id,
                LOCAL_ENDPOINT,
                action='container.exec',
            )
            environment = Environment.of(row) if row is not None else None
            if row is not None and environment is None:
                ui.label(f'{row.name} is not a dev environment.').classes('text-h6')
                ui.link('Open a terminal from its container page', container_path(row.name, row.endpoint, '/terminal'))
            if environment is None:
                back_link(identity)
                return
            with ui.row().classes('w-full items-center gap-2'):
                ui.link('Environments', '/environments')
                ui.label('/')
                ui.label(f'{environment.name} / Terminal').classes('text-h6')
            request = ExecRequest(
                container_id=environment.row.id,
                command=environment.shell,
                user=environment.user,
                workdir=environment.workdir,
            )
            with ui.column().classes('w-full').style(f'height: {TERMINAL_HEIGHT}'):
                ExecTerminal(services, request, container_name=environment.row.name, endpoint=environment.row.endpoint)


class EnvironmentsView:
    """The toolbar and the cards; a card is added, updated or removed as the state changes."""

    def __init__(self, services: Services, identity: Identity) -> None:
        self.services = services
        self.identity = identity
        self.everyone = identity.can(Permission.CONTAINER_READ)  # else: only its own
        self.hand_over = identity.can(Permission.ENVIRONMENT_ASSIGN)
        self.cards: dict[str, EnvironmentCard] = {}
        with ui.row().classes('w-full items-center gap-3'):
            ui.label('Environments' if self.everyone else 'My environments').classes('text-h5')
            self.summary = ui.label().classes('text-caption')
            ui.space()
            if identity.holds(Permission.ENVIRONMENT_CREATE):
                ui.button('New environment', icon='add', on_click=self.new).props('no-caps')
        self.empty = ui.label('No environments yet.').classes('text-body2')
        self.grid = ui.row().classes('w-full gap-3')
        self.usage = services.usage.want(('environments page', ui.context.client.id), ())
        on_client_delete(self.usage.release)
        self.render()
        self.on_usage(services.usage.recent(RECENT_USAGE_SECONDS))
        on_client_delete(services.state.subscribe(self.on_state))
        on_client_delete(services.usage.subscribe(self.on_usage))
        on_client_delete(services.jobs.subscribe(self.on_job))
        ui.timer(10, self.render)  # keeps 'Up 5 minutes' and the idle time left honest; never asks the daemon

    def visible(self) -> list[Environment]:
        rows = self.services.state.containers.values()
        return [env for env in environments(rows) if self.identity.can(Permission.CONTAINER_READ, env.row.scope)]

    def on_state(self, change: StateChange) -> None:
        if change.kind != ChangeKind.ENGINE:
            self.render()

    def on_usage(self, figures: dict[str, Usage]) -> None:
        for container_id, usage in figures.items():
            card = self.cards.get(container_id)
            if card is not None and card.environment.row.state == 'running':
                card.show_usage(usage)

    def on_job(self, job: Job, update: JobUpdate) -> None:
        if update.status in FINISHED and job.target in self.cards:
            self.render()

    def render(self) -> None:
        shown = self.visible()
        owners = {account.owner_id: account.username for account in self.services.accounts.known()}
        if [env.row.id for env in shown] != list(self.cards):
            self.grid.clear()
            self.cards = {}
            with self.grid:
                for env in shown:
                    self.cards[env.row.id] = EnvironmentCard(
                        env, self.act, owner=self._owner(env, owners), hand_over=self.hand_over
                    )
        stopped_idle = self._stopped_idle(shown)
        for env in shown:
            self.cards[env.row.id].show(
                env,
                self._owner(env, owners),
                idle=self.services.idle.of(env),
                stopped_idle=stopped_idle.get(env.row.id, ''),
            )
        running = [env.row.id for env in shown if env.row.state == 'running']
        self.usage.update(running)
        self.summary.text = f'{len(shown)} environments, {len(running)} running'
        self.empty.set_visibility(not shown)

    def _stopped_idle(self, shown: list[Environment]) -> dict[str, str]:
        """Container id → the idle stop's sentence, for the stopped ones whose latest job is a succeeded idle stop."""
        stopped = {env.row.id for env in shown if env.row.state != 'running'}
        latest: dict[str, Job] = {}
        for job in self.services.jobs.jobs.values() if stopped else ():  # oldest first
            if job.target in stopped and job.status in FINISHED:
                latest[job.target] = job
        return {
            target: job.message
            for target, job in latest.items()
            if job.kind == IDLE_STOP_KIND and job.status == JobStatus.SUCCEEDED
        }

    def _owner(self, env: Environment, owners: dict[str, str]) -> str:
        if not self.everyone:
            return ''
        return owners.get(env.owner) or env.owner.removeprefix('local:') or 'nobody'

    async def new(self) -> None:
        identity = self.services.sessions.current()
        if identity is None:
            return
        stored = await run.io_bound(self.services.templates.all)
        templates = [template for template in stored or [] if usable_by(template, identity)]
        if not templates:
            ui.notify('There is no template you may use yet: an admin adds them under Templates.', type='warning')
            return

        async def create(template: str, name: str) -> str | None:
            try:
                await self.services.commands.create_environment(self.services.sessions.current(), template, name)
            except (Forbidden, CommandError) as error:
                return sentence(error)
            return None

        await NewEnvironmentDialog(templates, create).ask()

    async def act(self, action: str, env: Environment) -> None:
        identity = self.services.sessions.current()
        row = env.row
        try:
            if action == 'terminal':
                ui.navigate.to(f'/environments/{quote(row.name, safe="")}/terminal')
            elif action == 'logs':
                ui.navigate.to(container_path(row.name, row.endpoint, '/logs'))
            elif action in LIFECYCLE:
                await self.services.commands.container_action(identity, action, row.id)
            elif action == 'delete':
                answer = await DeleteEnvironmentDialog(env.name).ask()
                if answer is not None:
                    await self.services.commands.delete_environment(identity, row.id, keep_home=answer['keep_home'])
            elif action == 'hand_over':
                await self._hand_over(identity, env)
        except (Forbidden, CommandError) as error:
            ui.notify(sentence(error), type='negative')

    async def _hand_over(self, identity: Identity | None, env: Environment) -> None:
        accounts = [account for account in await run.io_bound(self.services.accounts.all) or [] if not account.disabled]
        choices = {account.username: account for account in accounts if account.owner_id != env.owner}
        chosen = await HandOverDialog(env.name, sorted(choices)).ask()
        if chosen in choices:
            account = choices[chosen]
            await self.services.commands.assign_environment(
                identity, env.row.id, owner=account.owner_id, username=account.username
            )
