"""The live deployment log of a stack action: per service, its steps (pulling with a bar per layer, creating,
starting, healthy), then the job log's lines. Fed from the job store, so everyone watching the stack sees the same."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from components.pull_progress import STATUS_COLORS, PullProgress
from core.jobs.store import Job
from core.stacks.events import STACK

LOG_LINES = 400  # what the page shows of the job log; the job page has all of it
FAILED_STEPS = ('Error',)


class ServiceSteps(ui.column):
    """One service: its name, where it is now, the steps it went through, and its pull's bars when it pulls."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.classes('w-full gap-1 q-pa-xs')
        with self:
            with ui.row().classes('w-full items-center gap-2 no-wrap'):
                ui.label(name or 'Networks and volumes').classes('text-weight-medium w-40 break-all')
                self.state = ui.badge('').props(f'aria-label="State of {name or "the stack"}"')
                self.steps = ui.label().classes('text-caption grow')
            self.error = ui.label().classes('text-negative text-caption break-all').props('role=alert')
            self.pull: PullProgress | None = None
            self.pull_box = ui.column().classes('w-full gap-0')

    def show(self, data: dict[str, Any]) -> None:
        state = str(data.get('state') or '')
        self.state.text = state
        color = 'negative' if state in FAILED_STEPS else 'positive' if state in OK else 'info'
        if self.state.props.get('color') != color:
            self.state.props(f'color={color}')
        self.steps.text = ' → '.join(str(step) for step in data.get('steps') or [])
        self.error.text = str(data.get('error') or '')
        self.error.set_visibility(bool(data.get('error')))
        layers = data.get('layers') or []
        if layers:
            if self.pull is None:
                with self.pull_box:
                    self.pull = PullProgress()
            self.pull.show(data.get('pull'), {'layers': layers})


OK = ('Started', 'Running', 'Healthy', 'Pulled', 'Created', 'Recreated', 'Stopped', 'Removed', 'Skipped', 'Done')


class DeployLogView(ui.column):
    """The latest action on one stack, live: status, message, the services' steps, the job log."""

    def __init__(self) -> None:
        super().__init__()
        self.classes('w-full gap-2')
        self.job_id = ''
        with self:
            with ui.row().classes('w-full items-center gap-2'):
                self.title = ui.label('No action yet').classes('text-subtitle1')
                self.badge = ui.badge('').props('aria-label="Action status"')
                ui.space()
                self.link = ui.link('Job page', '/jobs')
            self.message = ui.label().classes('text-caption break-all').props('aria-label="Action result"')
            self.services_box = ui.column().classes('w-full gap-1')
            with ui.expansion('Job log', icon='notes').classes('w-full').props('dense'):
                self.output = ui.label().classes('font-mono text-caption whitespace-pre-wrap break-all')
        self.rows: dict[str, ServiceSteps] = {}
        self.link.set_visibility(False)
        self.badge.set_visibility(False)

    def show(self, job: Job) -> None:
        if job.job_id != self.job_id:  # a new action: its own services, from the start
            self.job_id = job.job_id
            self.services_box.clear()
            self.rows = {}
            self.link.props['href'] = f'/jobs/{job.job_id}'
            self.link.update()
            self.link.set_visibility(True)
            self.badge.set_visibility(True)
        self.title.text = f'{job.action.capitalize()} by {job.requested_by}'
        self.badge.text = job.status
        if self.badge.props.get('color') != STATUS_COLORS.get(job.status):
            self.badge.props(f'color={STATUS_COLORS.get(job.status, "grey")}')
        self.message.text = job.message
        for data in job.detail.get('services') or []:
            name = str(data.get('name') or STACK)
            row = self.rows.get(name)
            if row is None:
                with self.services_box:
                    row = self.rows[name] = ServiceSteps(name)
            row.show(data)
        lines = list(job.output)[-LOG_LINES:]
        self.output.text = '\n'.join(lines)
