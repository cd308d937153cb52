"""/jobs: the job centre — recent jobs, live."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from nicegui import ui

from components.frame import frame, on_client_delete, page_identity
from components.notifications import describe_job
from core.jobs.store import Job, JobStatus, JobUpdate
from core.permissions import Permission

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

COLUMNS: list[dict[str, Any]] = [
    {'name': 'status', 'label': 'Status', 'field': 'status', 'sortable': True, 'align': 'left'},
    {'name': 'what', 'label': 'What', 'field': 'what', 'align': 'left'},
    {'name': 'target', 'label': 'Target', 'field': 'target', 'sortable': True, 'align': 'left'},
    {'name': 'host', 'label': 'Host', 'field': 'endpoint', 'sortable': True, 'align': 'left'},
    {'name': 'who', 'label': 'Who', 'field': 'who', 'sortable': True, 'align': 'left'},
    {'name': 'when', 'label': 'When', 'field': 'when', 'sortable': True, 'align': 'left'},
    {'name': 'duration', 'label': 'Duration', 'field': 'duration', 'align': 'right'},
    {'name': 'message', 'label': 'Result', 'field': 'message', 'align': 'left'},
]
STATUS_CELL = (
    "<q-td :props=\"props\"><q-badge :color=\"({queued: 'grey', running: 'info', succeeded: 'positive', "
    'failed: \'negative\'})[props.row.status]" :label="props.row.status" /></q-td>'
)

WHAT_CELL = (
    '<q-td :props="props"><a :href="\'/jobs/\' + props.row.id" class="text-primary">{{ props.row.what }}</a></q-td>'
)


def register(services: Services) -> None:
    @ui.page('/jobs')
    def jobs_page() -> None:
        identity = page_identity(services, Permission.JOB_READ, 'see jobs', own=True)
        if identity is None:
            return
        with frame(services, identity, 'Jobs'):
            ui.label('Jobs').classes('text-h5')
            table = (
                ui.table(columns=COLUMNS, rows=[], row_key='id', pagination={'rowsPerPage': 25})
                .props('flat bordered dense wrap-cells')
                .classes('w-full')
            )
            table.add_slot('body-cell-status', STATUS_CELL)
            table.add_slot('body-cell-what', WHAT_CELL)

            def render(job: Job | None = None, update: JobUpdate | None = None) -> None:
                if update is not None and update.status == JobStatus.HEARTBEAT:
                    return
                table.rows = [
                    job_row(job) for job in services.jobs.recent() if identity.can(Permission.JOB_READ, job.scope)
                ]

            render()
            on_client_delete(services.jobs.subscribe(render))


def job_row(job: Job) -> dict[str, Any]:
    duration = job.duration
    return {
        'id': job.job_id,
        'status': job.status,
        'what': job.kind,
        'target': job.target_name,
        'endpoint': job.endpoint,  # the Docker host it ran against
        'who': job.requested_by,
        'when': time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(job.created_at)),
        'duration': f'{duration:.1f} s' if duration is not None else '',
        'message': describe_job(job) if job.status == JobStatus.FAILED else job.message,
    }
