"""RunPanel: one sandbox run, live — the status line (queued with its place in line, running with the time so far,
finished with exit code, duration, peak memory, CPU time, why it was stopped and what isolated it), Cancel, Download
and the output. /run follows the run just started; /run/{id} shows one run read-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from nicegui import run, ui

from core.errors import CommandError
from core.permissions import Forbidden, Permission
from core.sandbox.line import RunLine
from core.sandbox.runs import RunPhase, SandboxRun, Segment

from .container_access import sentence
from .frame import on_client_delete
from .run_output import RunOutputView

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

STATUS_COLORS = {'queued': 'grey', 'running': 'primary', 'succeeded': 'positive', 'failed': 'negative'}


def status_line(found: SandboxRun, line: RunLine) -> str:
    """The status line's sentence for a run."""
    if found.phase == RunPhase.QUEUED:
        return f'Queued: {line.why_waiting(found.run_id) or "starting…"}'
    if found.phase == RunPhase.RUNNING:
        elapsed = found.elapsed or 0.0
        return f'Running: {elapsed:.0f} s so far'
    if found.result is None:
        return f'Finished: {found.message or "no result"}'
    return found.result.status()


def badge_of(found: SandboxRun) -> str:
    if found.phase != RunPhase.FINISHED:
        return found.phase.value
    return 'succeeded' if found.result is not None and found.result.succeeded else 'failed'


class RunPanel(ui.column):
    """Follows one run at a time (:meth:`follow`); ``on_finished`` is called when the followed run ends."""

    def __init__(self, services: Services, *, on_finished: Callable[[SandboxRun], None] | None = None) -> None:
        super().__init__()
        self.classes('w-full gap-2')
        self.services = services
        self.on_finished = on_finished
        self.run: SandboxRun | None = None
        self._unsubscribe: Callable[[], None] | None = None
        with self:
            with ui.row().classes('w-full items-center gap-2'):
                self.badge = ui.badge('').props('aria-label="Run status"')
                self.status = (
                    ui.label('No run yet.').classes('text-body1').props('role=status data-berth=run-status')
                ).mark('run-status')
                ui.space()
                self.cancel_button = ui.button('Cancel', icon='cancel', color='negative', on_click=self.cancel).props(
                    'outline dense no-caps aria-label="Cancel run"'
                )
                self.download_button = ui.button('Download output', icon='download', on_click=self.download).props(
                    'flat dense no-caps aria-label="Download output"'
                )
            self.cut = ui.label().classes('text-caption text-warning')
            self.output = RunOutputView(label='Output of the run')
        self.timer = ui.timer(1.0, self.render, active=False)
        unsubscribe_line = services.sandbox.line.subscribe(self._on_line)
        on_client_delete(self._close)
        on_client_delete(unsubscribe_line)
        self.render()

    def follow(self, found: SandboxRun) -> None:
        """Shows ``found`` (its output so far) and keeps it live until another run is followed."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.run = found
        self.status.props(f'data-run={found.run_id}')  # which run the line is about (the bench waits on it)
        self.cancel_button.enable()
        self.output.replace([(stream, text) for stream, text in found.output.segments])
        self._unsubscribe = self.services.sandbox.runs.subscribe(found.run_id, self._on_run)
        self.render()

    def render(self) -> None:
        found = self.run
        self.cancel_button.set_visibility(found is not None and found.phase != RunPhase.FINISHED and self._may_cancel())
        self.download_button.set_visibility(found is not None)
        self.badge.set_visibility(found is not None)
        if found is None:
            self.cut.set_visibility(False)
            return
        self.status.text = status_line(found, self.services.sandbox.line)
        badge = badge_of(found)
        self.badge.text = badge
        self.badge.props(f'color={STATUS_COLORS.get(badge, "grey")}')
        self.timer.active = found.phase == RunPhase.RUNNING
        cut = len(found.output.text()) > self.output.max_chars
        self.cut.text = 'Only the end of the output is shown: download it for all of it.' if cut else ''
        self.cut.set_visibility(cut)

    def _on_run(self, found: SandboxRun, chunk: list[Segment]) -> None:
        if found is not self.run:
            return
        self.output.append(chunk)
        if chunk and found.phase == RunPhase.RUNNING and self.status.text.startswith('Running'):
            return  # output alone: the status line ticks with the timer
        self.render()
        if found.phase == RunPhase.FINISHED and self.on_finished is not None:
            self.on_finished(found)

    def _on_line(self) -> None:
        if self.run is not None and self.run.phase == RunPhase.QUEUED:
            self.render()

    def _may_cancel(self) -> bool:
        identity = self.services.sessions.current()
        return bool(identity and self.run and identity.can(Permission.SANDBOX_RUN, self.run.scope))

    def cancel(self) -> None:
        if self.run is None:
            return
        try:
            self.services.commands.cancel_run(self.services.sessions.current(), self.run.run_id)
        except (Forbidden, CommandError) as error:
            ui.notify(sentence(error), type='negative')
            return
        self.cancel_button.disable()
        ui.notify('Cancelling…', type='info')

    async def download(self) -> None:
        """The run's whole output (as the panel kept it), for whoever may see the run."""
        found = self.run
        if found is None:
            return
        identity = self.services.sessions.current()
        if identity is None or not identity.can(Permission.SANDBOX_READ, found.scope):
            ui.notify('You may not see this run any more.', type='negative')
            return
        if found.phase == RunPhase.FINISHED and found.run_id not in self.services.sandbox.runs.live:
            found = await run.io_bound(self.services.sandbox.runs.find, found.run_id) or found
        ui.download.content(found.output.text(), f'run-{found.run_id[:12]}.txt', media_type='text/plain')

    def _close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
