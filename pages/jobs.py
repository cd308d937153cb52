"""/jobs: the job centre — recent jobs, live."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from nicegui import ui

from components.frame import frame, on_client_delete, page_identity
from components.notifications import describe_job
from components.tab_render import TabRender
from components.table_rows import send_rows
from core.jobs.store import Job, JobStatus, JobUpdate
from core.permissions import Identity, Permission

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
RENDER_SECONDS = 0.25

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
            JobTable(services, identity).classes('w-full')


class JobTable(ui.table):
    """The recent jobs the person may read, live: re-rendered on job updates at once, then at most once per
    RENDER_SECONDS while they keep coming, and not while the tab is not connected (components/tab_render.py). Each
    render sends every recent job (up to the store's history, 500): once per update, a burst of a thousand jobs (three
    updates each) made every open job centre send hundreds of kilobytes thousands of times and held up the event loop
    for seconds (bench/load.py)."""

    def __init__(self, services: Services, identity: Identity) -> None:
        super().__init__(columns=COLUMNS, rows=[], row_key='id', pagination={'rowsPerPage': 25})
        self.services = services
        self.identity = identity
        self.props('flat bordered dense wrap-cells')
        self.add_slot('body-cell-status', STATUS_CELL)
        self.add_slot('body-cell-what', WHAT_CELL)
        self.render()
        self._renders = TabRender(self._render_live, RENDER_SECONDS)
        on_client_delete(services.jobs.subscribe(self.on_job))

    def on_job(self, job: Job | None, update: JobUpdate) -> None:
        if update.status != JobStatus.HEARTBEAT:
            self._renders.request()

    def render(self) -> None:
        rows = [
            job_row(job) for job in self.services.jobs.recent() if self.identity.can(Permission.JOB_READ, job.scope)
        ]
        send_rows(self, rows)  # fresh row dicts at each render: nothing edits them

    def _render_live(self) -> None:
        if not self.is_deleted:
            self.render()


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
