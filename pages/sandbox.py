"""/run: run a script in a throwaway, locked-down container and watch its output; the history of one's runs.
/run/{run_id}: one run, read-only, for whoever may see it (its owner; viewers, operators and admins).

The page only lays out and asks: ``services.commands.run_script`` checks and queues the run, the worker runs it
(core/operations/sandbox.py), and ``RunPanel`` follows it live from the run record (core/sandbox/runs.py)."""

from __future__ import annotations

import shlex
import time
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from nicegui import background_tasks, events, run, ui

from components.container_access import sentence
from components.frame import frame, page_identity
from components.run_panel import RunPanel
from core.errors import CommandError
from core.permissions import Forbidden, Identity, Permission
from core.sandbox.limits import describe
from core.sandbox.runs import RunPhase, SandboxRun
from core.sandbox.runtimes import Runtime

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

LANGUAGES: dict[str, Any] = {'.py': 'Python', '.sh': 'Shell', '.js': 'JavaScript', '.rb': 'Ruby', '.lua': 'Lua'}
HISTORY_COLUMNS: list[dict[str, Any]] = [
    {'name': name, 'label': label, 'field': name, 'align': 'left'}
    for name, label in (('when', 'When'), ('runtime', 'Runtime'), ('title', 'Script'), ('summary', 'Result'))
] + [{'name': 'actions', 'label': '', 'field': 'run_id', 'align': 'right'}]
HISTORY_ACTIONS = (
    '<q-td :props="props" class="text-right">'
    '<q-btn flat dense no-caps icon="open_in_new" label="Open" :href="\'/run/\' + props.row.run_id" '
    ':aria-label="\'Open the run of \' + props.row.when" />'
    '<q-btn flat dense no-caps icon="replay" label="Run again" '
    ':aria-label="\'Run again the run of \' + props.row.when" '
    '@click="() => $parent.$emit(\'again\', props.row.run_id)" />'
    '</q-td>'
)
EXAMPLE = """- name: python
  image: python:3.11-slim
  command: python3 /sandbox/main.py
  filename: main.py
  limits: {timeout: 10, memory: 128m, cpus: 1, pids: 64, output: 1m}"""


def register(services: Services) -> None:
    @ui.page('/run')
    async def run_page(again: str = '') -> None:
        identity = page_identity(services, Permission.SANDBOX_RUN, 'run scripts', own=True)
        if identity is None:
            return
        runtimes = await run.io_bound(services.sandbox.runtimes.all)
        with frame(services, identity, 'Run'):
            if not runtimes:
                no_runtimes(identity)
                return
            page = RunPage(services, identity, runtimes)
        if again:
            await page.load_again(again)
        await page.refresh_history()

    @ui.page('/run/{run_id}')
    async def run_view(run_id: str) -> None:
        identity = page_identity(services, Permission.SANDBOX_READ, 'see runs', own=True)
        if identity is None:
            return
        found = services.sandbox.runs.get(run_id) or await run.io_bound(services.sandbox.runs.find, run_id)
        if found is not None and not identity.can(Permission.SANDBOX_READ, found.scope):
            services.audit.record(
                username=identity.username,
                role=identity.role,
                action='sandbox.read',
                target=f'a {found.runtime} script',
                params={'run': run_id},
                result=f'refused: {identity.username} may see only their own runs',
                address=identity.address,
                endpoint=found.endpoint,
            )
            found = None  # someone else's run: as if there were none
        with frame(services, identity, 'Run'):
            if found is None:
                ui.label(f'No run with id "{run_id}".').classes('text-h6')
                ui.link('Back to Run', '/run' if identity.holds(Permission.SANDBOX_RUN) else '/')
                return
            RunReadOnly(services, identity, found)


def no_runtimes(identity: Identity) -> None:
    ui.label('Run a script').classes('text-h5')
    ui.label('No runtime is configured yet, so there is nothing to run scripts in.').classes('text-h6').props(
        'role=status'
    )
    ui.label('An admin adds one on the Runtimes page, or in BERTH_DATA_DIR/runtimes.yaml (read at every start), e.g.:')
    ui.label(EXAMPLE).classes('font-mono whitespace-pre bg-grey-2 q-pa-sm rounded-borders text-black')
    if identity.can(Permission.RUNTIMES_MANAGE):
        ui.link('Add a runtime', '/admin/runtimes')


class RunPage:
    def __init__(self, services: Services, identity: Identity, runtimes: list[Runtime]) -> None:
        self.services = services
        self.identity = identity
        self.runtimes = {runtime.name: runtime for runtime in runtimes}
        self.busy = False
        sandbox = services.sandbox
        ui.label('Run a script').classes('text-h5')
        with ui.row().classes('w-full items-center gap-3'):
            self.runtime = (
                ui.select(
                    {runtime.name: runtime.name for runtime in runtimes},
                    label='Runtime',
                    value=runtimes[0].name,
                    on_change=self._show_runtime,
                )
                .props('outlined dense aria-label="Runtime"')
                .classes('w-56')
                .mark('runtime')
            )
            self.runtime_facts = ui.label().classes('text-caption')
        ui.label('Script').classes('text-subtitle2')
        self.script = (
            ui.codemirror('', keymap={'Mod-Enter': self.run_script}, line_wrapping=True)
            .classes('w-full h-72 border rounded-borders')
            .props('aria-label="Script"')
            .mark('script')
        )
        with ui.row().classes('w-full items-center gap-3'):
            ui.upload(
                label=f'Upload a script (at most {describe("output", sandbox.script_max)})',
                auto_upload=True,
                max_file_size=sandbox.script_max,
                on_upload=self._uploaded,
                on_rejected=lambda: ui.notify(
                    f'That file is too large: a script can be at most {describe("output", sandbox.script_max)}.',
                    type='negative',
                ),
            ).props('flat bordered dense accept="*" aria-label="Upload a script"').classes('w-80').mark('upload')
        with ui.row().classes('w-full gap-3 items-start'):
            self.stdin = (
                ui.textarea('Input (stdin)', placeholder='optional: what the script reads on its standard input')
                .props('outlined dense rows=3 aria-label="Input (stdin)"')
                .classes('grow')
                .mark('stdin')
            )
            self.arguments = (
                ui.input('Arguments', placeholder='optional, split as a shell would: one "two words"')
                .props('outlined dense aria-label="Arguments"')
                .classes('w-96')
                .mark('arguments')
            )
        for field in (self.stdin, self.arguments):
            field.on('keydown.ctrl.enter', self.run_script)
        with ui.row().classes('w-full items-center gap-3'):
            self.run_button = (
                ui.button('Run', icon='play_arrow', on_click=self.run_script)
                .props('aria-label="Run" no-caps data-berth=run')
                .mark('run')
            )
            ui.label('or Ctrl+Enter').classes('text-caption')
            self.error = ui.label().classes('text-negative').props('role=alert')
            self.error.set_visibility(False)
        self.panel = RunPanel(services, on_finished=self._finished)
        ui.label('My runs').classes('text-h6 q-mt-md')
        self.history = ui.table(columns=HISTORY_COLUMNS, rows=[], row_key='run_id').props(
            'flat bordered dense wrap-cells'
        )
        self.history.classes('w-full')
        self.history.add_slot('body-cell-actions', HISTORY_ACTIONS)
        self.history.on('again', lambda event: self.load_again(str(event.args)))
        self._show_runtime()

    def _show_runtime(self) -> None:
        runtime = self.runtimes.get(str(self.runtime.value))
        if runtime is None:
            return
        isolation = self.services.sandbox.isolation or "the engine's default runtime"
        self.runtime_facts.text = (
            f'{runtime.image} · {" ".join(runtime.command)} · {runtime.limits.summary()} · no network · '
            f'isolated by {isolation}'
        )
        self.script.language = LANGUAGES.get(PurePosixPath(runtime.filename).suffix)

    async def _uploaded(self, event: events.UploadEventArguments) -> None:
        data = await event.file.read()
        try:
            self.script.value = data.decode('utf-8')
        except UnicodeDecodeError:
            ui.notify(f'{event.file.name} is not UTF-8 text: upload a script, not a binary.', type='negative')
            return
        ui.notify(f'Loaded {event.file.name}.', type='info')

    async def run_script(self) -> None:
        if self.busy:
            return
        self.busy = True
        self.run_button.disable()
        self.error.set_visibility(False)
        try:
            job = await self.services.commands.run_script(
                self.services.sessions.current(),
                runtime=str(self.runtime.value or ''),
                script=str(self.script.value or ''),
                stdin=str(self.stdin.value or ''),
                arguments=str(self.arguments.value or ''),
            )
        except (Forbidden, CommandError) as error:
            self.error.text = sentence(error)
            self.error.set_visibility(True)
            return
        finally:
            self.busy = False
            self.run_button.enable()
        found = self.services.sandbox.runs.get(job.job_id)
        if found is not None:
            self.panel.follow(found)
        await self.refresh_history()

    def _finished(self, _: SandboxRun) -> None:
        background_tasks.create(self.refresh_history(), name='run history')

    async def load_again(self, run_id: str) -> None:
        """Puts a run's runtime, script, input and arguments back in the form (a run the person may see)."""
        found = self.services.sandbox.runs.get(run_id) or await run.io_bound(self.services.sandbox.runs.find, run_id)
        identity = self.services.sessions.current()
        if found is None or identity is None or not identity.can(Permission.SANDBOX_READ, found.scope):
            ui.notify(f'There is no run {run_id} you may see.', type='negative')
            return
        if found.runtime in self.runtimes:
            self.runtime.value = found.runtime
        else:
            ui.notify(f'The runtime {found.runtime} is gone: choose another.', type='warning')
        self.script.value = found.script
        self.stdin.value = found.stdin
        self.arguments.value = ' '.join(_quoted(argument) for argument in found.arguments)

    async def refresh_history(self) -> None:
        summaries = await run.io_bound(self.services.sandbox.runs.history, self.identity.owner_id)
        if summaries is None:  # the app is stopping
            return
        self.history.rows = [
            {
                'run_id': summary.run_id,
                'when': time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(summary.created_at)),
                'runtime': summary.runtime,
                'title': summary.title,
                'summary': _live_summary(self.services, summary.run_id) or summary.summary,
            }
            for summary in summaries
        ]


class RunReadOnly:
    """One run as others see it: who ran what, where, with which input and arguments; its status and output."""

    def __init__(self, services: Services, identity: Identity, found: SandboxRun) -> None:
        started = time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(found.created_at))
        with ui.row().classes('w-full items-center gap-2'):
            ui.link('Run', '/run')
            ui.label('/')
            ui.label(f'A {found.runtime} script run by {found.username}').classes('text-h5 break-all')
            ui.space()
            if identity.can(Permission.SANDBOX_RUN, found.scope) or identity.holds(Permission.SANDBOX_RUN):
                ui.button(
                    'Run again', icon='replay', on_click=lambda: ui.navigate.to(f'/run?again={found.run_id}')
                ).props('outline no-caps aria-label="Run again"')
        ui.label(f'Asked at {started} · script sha256 {found.script_sha256}').classes('text-caption break-all')
        ui.label('Script').classes('text-subtitle2')
        ui.codemirror(found.script, line_wrapping=True).classes('w-full max-h-96 border rounded-borders').props(
            'aria-label="Script"'
        ).mark('script').disable()
        if found.arguments:
            ui.label(f'Arguments: {" ".join(_quoted(argument) for argument in found.arguments)}').classes(
                'font-mono break-all'
            )
        if found.stdin:
            ui.label('Input (stdin)').classes('text-subtitle2')
            ui.label(found.stdin).classes('font-mono whitespace-pre-wrap break-all').mark('stdin')
        panel = RunPanel(services)
        panel.follow(found)


def _live_summary(services: Services, run_id: str) -> str:
    found = services.sandbox.runs.get(run_id)
    if found is None or found.phase == RunPhase.FINISHED:
        return ''
    return found.phase.value


def _quoted(argument: str) -> str:
    return shlex.quote(argument)
