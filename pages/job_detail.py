"""/jobs/{job_id}: one job, live for everyone viewing it: status, progress (per layer for pulls), output, cancel."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from nicegui import run, ui

from components.frame import frame, on_client_delete, page_identity
from components.notifications import describe_job, job_verb
from components.pull_progress import STATUS_COLORS, PullProgress
from core.commands.images import CANCELLABLE
from core.errors import CommandError
from core.jobs.store import ACTIVE, FINISHED, OUTPUT_LINES, Job, JobStatus, JobUpdate
from core.permissions import Forbidden, Permission

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services


def register(services: Services) -> None:
    @ui.page('/jobs/{job_id}')
    async def job_page(job_id: str) -> None:
        identity = page_identity(services, Permission.JOB_READ, 'see jobs', own=True)
        if identity is None:
            return
        # recent jobs are in memory; an older one (with its output) is read from the database, off the loop
        job = services.jobs.jobs.get(job_id) or await run.io_bound(services.jobs.find, job_id)
        if job is not None and not identity.can(Permission.JOB_READ, job.scope):
            services.audit.record(
                username=identity.username,
                role=identity.role,
                action='job.read',
                target=job.target_name,
                params={'job': job_id},
                result=f'refused: {identity.username} may see only the jobs on their own things',
                address=identity.address,
                endpoint=job.endpoint,
            )
            job = None  # someone else's job: as if there were none
        with frame(services, identity, 'Job'):
            if job is None:
                ui.label(f'No job with id "{job_id}".').classes('text-h6')
                ui.link('Back to jobs', '/jobs')
                return
            JobView(services, job, operator=identity.can(Permission.JOB_CANCEL))


class JobView:
    """Lays out the job once, then applies every update for it in place (progress arrives ≤10 times a second)."""

    def __init__(self, services: Services, job: Job, *, operator: bool) -> None:
        self.services = services
        self.job_id = job.job_id
        self.operator = operator
        with ui.row().classes('w-full items-center gap-2'):
            ui.link('Jobs', '/jobs')
            ui.label('/')
            ui.label(f'{job_verb(job)} {job.target_name}').classes('text-h5 break-all')
            self.badge = ui.badge(job.status).props('aria-label="Job status"')
            ui.space()
            self.cancel = ui.button('Cancel', icon='cancel', color='negative', on_click=self.cancel_job).props(
                'outline aria-label="Cancel job"'
            )
        self.facts = ui.label().classes('text-caption')
        self.message = ui.label().classes('text-body1 break-all').props('role=status')
        self.progress = PullProgress() if job.kind == 'image.pull' or job.detail.get('layers') else None
        ui.label('Output').classes('text-subtitle1 text-weight-medium')
        self.output = ui.log(max_lines=OUTPUT_LINES).classes('w-full h-64 font-mono text-sm')
        for line in job.output:
            self.output.push(line)
        self.render(job)
        on_client_delete(services.jobs.subscribe(self.on_job))

    def on_job(self, job: Job, update: JobUpdate) -> None:
        if job.job_id != self.job_id or update.status == JobStatus.HEARTBEAT:
            return
        for line in update.output.splitlines():
            self.output.push(line)
        self.render(job)

    def render(self, job: Job) -> None:
        self.badge.text = job.status
        self.badge.props(f'color={STATUS_COLORS.get(job.status, "grey")}')
        started = time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(job.created_at))
        duration = f', {job.duration:.1f} s' if job.duration is not None else ''
        self.facts.text = f'asked by {job.requested_by} at {started}{duration}'
        self.message.text = describe_job(job) if job.status in FINISHED else job.message
        self.cancel.set_visibility(self.operator and job.kind in CANCELLABLE and job.status in ACTIVE)
        if self.progress is not None:
            self.progress.show(job.progress, job.detail)

    def cancel_job(self) -> None:
        try:
            self.services.commands.cancel_job(self.services.sessions.current(), self.job_id)
        except (Forbidden, CommandError) as error:
            ui.notify(f'{str(error)[:1].upper()}{str(error)[1:]}.', type='negative')
            return
        self.cancel.disable()
        ui.notify('Cancelling…', type='info')
