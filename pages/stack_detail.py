"""/stacks/{name} (``local``'s) and /hosts/{endpoint}/stacks/{name}: one stack — its files in the editor (Validate,
Deploy), its actions, the live deployment log of the latest action (everyone watching sees it), its services live from
the container events, its versions (diff, roll back) and its merged logs. A stack the engine runs but Berth has no
files for is external: adopt it, or act on its containers' lifecycle alone. A name with neither is a new stack. A stack
of Berth's belongs to one host; its page on another host leads to it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from nicegui import ui

from components.frame import frame, on_client_delete, page_identity
from components.links import HOSTS, stack_path
from components.stack_dialogs import DiffDialog, DownDialog
from components.stack_editor import StackEditor
from components.stack_log import DeployLogView
from components.stack_services import StackServicesTable
from core.commands.stacks import StackInvalid
from core.errors import CommandError
from core.jobs.store import Job, JobUpdate
from core.permissions import LOCAL_ENDPOINT, Forbidden, Identity, Permission, Scope, require
from core.stacks.actions import KINDS, StackAction
from core.stacks.compose import ComposeMissing, default_compose
from core.stacks.listing import MANAGED, StackRow
from core.stacks.store import StackError, StackFiles, Stacks, Version, check_name
from core.state.model import CONTAINER_CHANGES, StateChange

from .images import sentence

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

LIFECYCLE = (StackAction.STOP, StackAction.START, StackAction.RESTART, StackAction.DOWN)
WITH_FILES = (StackAction.PULL, StackAction.UPDATE)


def register(services: Services) -> None:
    @ui.page('/stacks/{name}')
    @ui.page(HOSTS + '/stacks/{name}')
    async def stack_page(name: str, endpoint: str = LOCAL_ENDPOINT) -> None:
        identity = page_identity(services, Permission.STACK_READ, 'see stacks', own=True)
        if identity is None:
            return
        with frame(services, identity, name):
            store = services.commands.stacks
            try:
                check_name(name)
                if store is None:
                    raise StackError('stacks are not set up on this panel')
                if endpoint not in services.endpoints:
                    raise StackError(f'there is no Docker host "{endpoint}"')
                require(identity, Permission.STACK_READ, 'see stacks', Scope(endpoint=endpoint))
                await services.state.first_sync(endpoint=endpoint)
                if await asyncio.to_thread(store.exists, name):
                    owner = await asyncio.to_thread(store.endpoint, name)
                    if owner != endpoint:  # a stack of Berth's lives on its own host
                        ui.navigate.to(stack_path(name, owner))
                        return
                    files: StackFiles | None = await asyncio.to_thread(store.read, name)
                else:
                    files = None
                versions = await asyncio.to_thread(store.versions, name)
            except (StackError, Forbidden) as error:
                ui.label(sentence(error)).classes('text-h6').props('role=alert')
                ui.link('Back to stacks', '/stacks')
                return
            try:
                compose_title = (await asyncio.to_thread(default_compose)).title
            except ComposeMissing as error:
                compose_title = sentence(error)
            StackPage(services, identity, store, name, files, versions, compose_title, endpoint)


class StackPage:
    def __init__(
        self,
        services: Services,
        identity: Identity,
        store: Stacks,
        name: str,
        files: StackFiles | None,
        versions: list[Version],
        compose_title: str,
        endpoint: str = LOCAL_ENDPOINT,
    ) -> None:
        self.services, self.identity, self.store, self.name = services, identity, store, name
        self.endpoint = endpoint  # the stack's host: every command and check is about it
        self.here = Scope(endpoint=endpoint)
        self.managed = files is not None
        row = self.row()
        if files is None and row is None and not identity.can(Permission.STACK_DEPLOY, self.here):
            ui.label(f'There is no stack named {name}.').classes('text-h6').props('role=alert')
            ui.link('Back to stacks', '/stacks')
            return
        self._pending: asyncio.TimerHandle | None = None
        with ui.row().classes('w-full items-center gap-2'):
            ui.link('Stacks', '/stacks')
            ui.label('/')
            ui.label(name).classes('text-h5 font-mono')
            if endpoint != LOCAL_ENDPOINT:
                ui.label(f'on host "{endpoint}"').classes('text-body2').props('aria-label="Host"')
            source = MANAGED if self.managed else 'external' if row is not None else 'new'
            self.source = ui.badge(source).props('aria-label="Source"')
            self.status = ui.label().classes('text-body2').props('aria-label="Status"')
            ui.space()
            ui.label(compose_title).classes('text-caption').props('aria-label="Compose version"')
        with ui.row().classes('w-full items-center gap-1'):
            self.buttons: dict[StackAction, ui.button] = {}
            for action in (*LIFECYCLE, *WITH_FILES):
                spec = action.spec
                if identity.can(spec.permission, self.here):
                    self.buttons[action] = ui.button(
                        spec.label, icon=spec.icon, on_click=lambda action=action: self.act(action)
                    ).props(f'flat no-caps aria-label="{spec.label}"')
            if row is not None and not self.managed and identity.can(Permission.STACK_DEPLOY, self.here):
                self.adopt_button = ui.button('Adopt', icon='move_to_inbox', on_click=self.adopt).props(
                    'flat no-caps aria-label="Adopt"'
                )
            ui.space()
            logs = f'/logs?{urlencode({"project": name, "endpoint": endpoint})}'
            ui.link('Merged logs', logs).props('aria-label="Merged logs"')
        self.editor_box = ui.column().classes('w-full gap-2')
        with self.editor_box:
            self.editor: StackEditor | None = None
            if self.managed or row is None:
                self.build_editor(files)
            else:
                ui.label(
                    'Berth has no compose file for this stack: adopt it to edit and deploy it here, or act on its '
                    'containers with Stop, Start, Restart and Down.'
                ).classes('text-body2')
        with ui.card().classes('w-full').props('flat bordered'):
            ui.label('Deployment log').classes('text-subtitle1')
            self.log = DeployLogView()
        with ui.card().classes('w-full').props('flat bordered'):
            ui.label('Services').classes('text-subtitle1')
            self.services_table = StackServicesTable(services.updates.available)
        with ui.card().classes('w-full').props('flat bordered'):
            with ui.row().classes('w-full items-center'):
                ui.label('Versions').classes('text-subtitle1')
                ui.space()
                self.diff_button = ui.button('Diff', icon='difference', on_click=self.diff).props(
                    'flat no-caps aria-label="Diff"'
                )
            self.versions_box = ui.column().classes('w-full gap-1')
        self.versions: list[Version] = []
        self.show_versions(versions)
        self.show_stack()
        latest = next((job for job in services.jobs.recent() if self.is_mine(job)), None)
        if latest is not None:
            self.log.show(latest)
        on_client_delete(services.state.subscribe(self.on_state))
        on_client_delete(services.jobs.subscribe(self.on_job))
        on_client_delete(services.updates.subscribe(lambda endpoint, references: self.show_stack()))

    def build_editor(self, files: StackFiles | None) -> None:
        deploy = self.identity.can(Permission.STACK_DEPLOY, self.here)
        self.editor = StackEditor(files, editable=deploy, reveal=self.reveal if deploy else None)
        if deploy:
            with ui.row().classes('w-full items-center gap-2'):
                self.message = (
                    ui.input('Version message', placeholder='optional: what changed')
                    .props('outlined dense aria-label="Version message"')
                    .classes('grow')
                )
                ui.button('Validate', icon='fact_check', on_click=self.validate).props(
                    'outline no-caps aria-label="Validate"'
                )
                ui.button('Deploy', icon='rocket_launch', on_click=self.deploy).props('no-caps aria-label="Deploy"')

    def row(self) -> StackRow | None:
        rows = self.services.commands.stack_rows({}, self.endpoint)
        return next((row for row in rows if row.name == self.name), None)

    def is_mine(self, job: Job) -> bool:
        return (
            job.kind in KINDS
            and job.target == self.name
            and job.endpoint == self.endpoint
            and self.identity.can(Permission.JOB_READ, job.scope)
        )

    def on_job(self, job: Job, update: JobUpdate) -> None:
        if self.is_mine(job):
            self.log.show(job)

    def on_state(self, change: StateChange) -> None:
        if change.kind in CONTAINER_CHANGES and self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(0.015, self._flush)

    def _flush(self) -> None:
        self._pending = None
        self.show_stack()

    def show_stack(self) -> None:
        row = self.row() or StackRow(name=self.name, source=MANAGED, endpoint=self.endpoint)
        if self.editor is not None and not row.services:
            row.services = StackFiles(compose=self.editor.compose.value or '').services()
        self.status.text = row.status
        self.services_table.show(row)

    def show_versions(self, versions: list[Version]) -> None:
        self.versions = versions
        self.versions_box.clear()
        self.diff_button.set_visibility(len(versions) > 1)
        with self.versions_box:
            if not versions:
                ui.label('No versions yet: each deploy saves one.').classes('text-caption')
            for version in versions:
                with ui.row().classes('w-full items-center gap-2'):
                    ui.label(version.title).classes('text-body2 grow')
                    if self.identity.can(Permission.STACK_DEPLOY, self.here) and version is not versions[0]:
                        ui.button(
                            'Roll back', icon='history', on_click=lambda number=version.number: self.rollback(number)
                        ).props(f'flat dense no-caps aria-label="Roll back to v{version.number}"')

    async def reload_versions(self) -> None:
        self.show_versions(await asyncio.to_thread(self.store.versions, self.name))

    async def validate(self) -> None:
        assert self.editor is not None
        try:
            result = await self.services.commands.validate_stack(
                self.services.sessions.current(), self.name, self.editor.files(), endpoint=self.endpoint
            )
        except (Forbidden, CommandError) as error:
            self.editor.show_refusal(sentence(error))
            return
        self.editor.show_problems(result.problems, result.refusals, ok=f'Valid: {", ".join(result.services)}.')

    async def deploy(self) -> None:
        assert self.editor is not None
        message = self.message.value or ''
        job = await self.run(
            self.services.commands.deploy_stack,
            self.name,
            self.editor.files(),
            message=message,
            endpoint=self.endpoint,
        )
        if job is not None:
            self.message.value = ''
            self.editor.show_problems([])
            self.mark_managed()

    async def rollback(self, number: int) -> None:
        job = await self.run(self.services.commands.rollback_stack, self.name, number)
        if job is not None and self.editor is not None:
            files = await asyncio.to_thread(self.store.read, self.name)
            self.editor.compose.value = files.compose

    async def act(self, action: StackAction) -> None:
        remove_volumes = False
        if action == StackAction.DOWN:
            answer = await DownDialog(self.name).ask()
            if answer is None:
                return
            remove_volumes = bool(answer['remove_volumes'])
        await self.run(
            self.services.commands.stack_action,
            self.name,
            action,
            remove_volumes=remove_volumes,
            endpoint=self.endpoint,
        )

    async def run(self, command: object, *arguments: object, **keywords: object) -> Job | None:
        """A command as the current user; problems land in the editor (with lines), refusals as notifications."""
        try:
            job: Job = await command(self.services.sessions.current(), *arguments, **keywords)  # type: ignore[operator]
        except StackInvalid as invalid:
            if self.editor is not None:
                self.editor.show_problems(invalid.problems)
            ui.notify(sentence(invalid), type='negative', multi_line=True)
            return None
        except (Forbidden, CommandError) as error:
            if self.editor is not None:
                self.editor.show_refusal(sentence(error))
            ui.notify(sentence(error), type='negative', multi_line=True)
            return None
        self.log.show(job)
        await self.reload_versions()
        return job

    async def reveal(self) -> str | None:
        try:
            return await self.services.commands.reveal_stack_env(self.services.sessions.current(), self.name)
        except (Forbidden, CommandError) as error:
            ui.notify(sentence(error), type='negative')
            return None

    async def adopt(self) -> None:
        try:
            version = await self.services.commands.adopt_stack(
                self.services.sessions.current(), self.name, endpoint=self.endpoint
            )
        except (Forbidden, CommandError) as error:
            ui.notify(sentence(error), type='negative', multi_line=True)
            return
        ui.notify(f'Adopted {self.name}: its files are v{version.number}.', type='positive')
        files = await asyncio.to_thread(self.store.read, self.name)
        self.mark_managed()
        self.adopt_button.set_visibility(False)
        self.editor_box.clear()
        with self.editor_box:
            self.build_editor(files)
        await self.reload_versions()

    def mark_managed(self) -> None:
        self.managed = True
        self.source.text = MANAGED

    async def diff(self) -> None:
        async def diff(older: int, newer: int) -> str:
            return await asyncio.to_thread(self.store.diff, self.name, older, newer)

        dialog = DiffDialog(self.versions, diff)
        await dialog.show()
        await dialog
        dialog.delete()
