"""/ (the home page after sign-in): the engine, what it holds, its disk, its busiest containers and the recent jobs.

Where each figure comes from, and how fresh it is:

- Engine facts: ``GET /info`` and ``/version`` (``EngineReads.engine_facts``), at most a minute old.
- Counts of containers (running / paused / stopped), images, volumes and networks: the live state, which follows the
  engine's event stream; a change shows within a moment, and nothing is asked of the engine for it.
- Disk usage: ``GET /system/df``, read when the page opens and on "Refresh" (the time is shown): it is expensive.
- Top containers by CPU and by memory: coarse one-shot samples (CPU % over about a second, memory without the page
  cache) from the usage sampler, each shown with its age. The ranking is over the latest figure of every running
  container sampled so far; each round (5 s) re-reads the leaders, stalest first, and a few others in turn
  (``core/streams/usage_leaders.py``): a leader is at most about 15 s old, and a container that becomes busy is found
  when the rotation reaches it (every round on a small host; at 500 running containers within about 14 minutes, or
  at once while a containers page shows it). However many dashboards are open, together they add at most 7 stats
  reads per round (1.4 per second) to the engine.
- Recent jobs and failures: the job store, live.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from typing import TYPE_CHECKING

from nicegui import ui

from components.container_table import usage_cells
from components.disk_usage_card import DiskUsageCard
from components.frame import frame, home_path, on_client_delete, page_identity
from components.hosts import several_hosts, status_text
from components.top_usage import TopEntry, TopUsageList
from core.docker.client import describe_error
from core.docker.engine_facts import EngineFacts
from core.jobs.store import Job, JobStatus, JobUpdate
from core.permissions import LOCAL_ENDPOINT, Identity, Permission
from core.state.containers import ContainerState
from core.state.images import format_size
from core.state.model import ChangeKind, StateChange
from core.streams.usage import Usage

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

COALESCE_SECONDS = 0.1
RECENT_JOBS = 6
DISK_KINDS = {  # the type's line in the disk usage → who may see it
    'Images': Permission.IMAGE_READ,
    'Containers': Permission.CONTAINER_READ,
    'Local volumes': Permission.VOLUME_READ,
    'Build cache': Permission.IMAGE_READ,
}
COUNTED = {  # what the page counts → who may see the count
    'containers': Permission.CONTAINER_READ,
    'images': Permission.IMAGE_READ,
    'volumes': Permission.VOLUME_READ,
    'networks': Permission.NETWORK_READ,
}
PRUNES = {  # the prune page of a kind → who may prune it (the pages ask before anything goes)
    'images': ('/images?prune=1', Permission.IMAGE_PRUNE),
    'volumes': ('/volumes?prune=1', Permission.VOLUME_PRUNE),
    'networks': ('/networks?prune=1', Permission.NETWORK_PRUNE),
}
DISK_PRUNES = {'Images': 'images', 'Local volumes': 'volumes'}  # the disk usage line → the kind pruned there
STATUS_COLORS = {JobStatus.QUEUED: 'grey', JobStatus.RUNNING: 'info', JobStatus.SUCCEEDED: 'positive'}


def register(services: Services) -> None:
    @ui.page('/')
    def dashboard_page() -> None:
        current = services.sessions.current()
        if current is not None and not current.can(Permission.CONTAINER_READ):
            ui.navigate.to(home_path(current))  # a developer's home is its environments
            return
        identity = page_identity(services, Permission.CONTAINER_READ, 'see the dashboard')
        if identity is None:
            return
        with frame(services, identity, 'Dashboard'):
            Dashboard(services, identity)


class Dashboard:
    """Lays out the sections the role may read; re-renders counts, top lists and jobs (coalesced) as they change."""

    def __init__(self, services: Services, identity: Identity) -> None:
        self.services = services
        self.identity = identity
        self._pending: asyncio.TimerHandle | None = None
        self._dirty: set[str] = set()
        ui.label('Dashboard').classes('text-h5').mark('dashboard')
        with ui.row().classes('w-full items-stretch gap-3'):
            self.engine = ui.card().classes('gap-1 min-w-80')
            with self.engine:
                ui.label('Engine').classes('text-h6')
                self.engine_lines = ui.column().classes('gap-0')
                with self.engine_lines:
                    ui.label('Reading the engine…').classes('text-caption')
            with ui.card().classes('gap-1 min-w-80'):
                ui.label('On this host').classes('text-h6')
                self.counts = self._counts()
            self.hosts: ui.column | None = None
            if several_hosts(services):
                with ui.card().classes('gap-1 min-w-80'):
                    ui.label('Hosts').classes('text-h6')
                    self.hosts = ui.column().classes('gap-1').props('role=list aria-label="Hosts"')
        kinds = [kind for kind, permission in DISK_KINDS.items() if identity.can(permission)]
        if kinds:
            DiskUsageCard(
                services.reads.disk_usage,
                kinds=kinds,
                prune_links={
                    line: PRUNES[kind][0] for line, kind in DISK_PRUNES.items() if identity.can(PRUNES[kind][1])
                },
            )
        with ui.card().classes('w-full gap-2'):
            ui.label('Busiest containers').classes('text-h6')
            with ui.row().classes('w-full gap-8'):
                self.top_cpu = TopUsageList('Top by CPU')
                self.top_memory = TopUsageList('Top by memory')
            self.top_note = ui.label().classes('text-caption')
        if identity.can(Permission.JOB_READ):
            with ui.row().classes('w-full items-stretch gap-3'):
                self.recent_jobs = self._jobs_card('Recent jobs')
                self.recent_failures = self._jobs_card('Recent failures')
            on_client_delete(services.jobs.subscribe(self.on_job))
        self.render()
        self._render_hosts()
        on_client_delete(services.usage_leaders.join())
        on_client_delete(services.usage.subscribe(self.on_usage))
        on_client_delete(services.state.subscribe(self.on_state))
        ui.timer(0.01, self.load_engine, once=True)

    @staticmethod
    def _jobs_card(title: str) -> ui.column:
        with ui.card().classes('gap-1 min-w-96 grow'):
            ui.label(title).classes('text-h6')
            return ui.column().classes('w-full gap-1').props(f'role=list aria-label="{title}"')

    async def load_engine(self) -> None:
        try:
            facts = await self.services.reads.engine_facts()
        except Exception as error:  # engine away: the frame's banner says so too
            self.engine_lines.clear()
            with self.engine_lines:
                ui.label(f'Could not read the engine: {describe_error(error)}.').props('role=alert')
            return
        self.engine_lines.clear()
        with self.engine_lines:
            for label, value in engine_lines(facts):
                with ui.row().classes('gap-2 no-wrap'):
                    ui.label(label).classes('w-32 text-weight-medium')
                    ui.label(value).classes('break-all')

    def on_state(self, change: StateChange) -> None:
        self.schedule('counts', 'top')  # a container that stops leaves the top lists
        if change.kind == ChangeKind.ENGINE:
            self._render_hosts()

    def _render_hosts(self) -> None:
        """Each endpoint: its name and status (connected, or unreachable since when and retrying)."""
        if self.hosts is None:
            return
        self.hosts.clear()
        with self.hosts:
            for endpoint in self.services.endpoints:
                status = status_text(self.services.state.hosts.get(endpoint.id))
                with ui.row().classes('gap-2 items-center no-wrap').props('role=listitem'):
                    ok = status == 'connected'
                    ui.icon('check_circle' if ok else 'error', color='positive' if ok else 'negative')
                    ui.label(f'{endpoint.name}: {status}')

    def on_usage(self, figures: dict[str, Usage]) -> None:
        self.schedule('top')

    def on_job(self, job: Job, update: JobUpdate) -> None:
        if update.status != JobStatus.HEARTBEAT:
            self.schedule('jobs')

    def schedule(self, *parts: str) -> None:
        """Renders those parts a moment later, together with whatever else changes meanwhile."""
        self._dirty.update(parts)
        if self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(COALESCE_SECONDS, self._flush)

    def _flush(self) -> None:
        self._pending = None
        dirty, self._dirty = self._dirty, set()
        self.render(dirty)

    def render(self, parts: Collection[str] = ('counts', 'top', 'jobs')) -> None:
        if 'counts' in parts:
            self._render_counts()
        if 'top' in parts:
            self._render_top()
        if 'jobs' in parts and self.identity.can(Permission.JOB_READ):
            self._render_jobs()

    def _counts(self) -> dict[str, ui.link]:
        """A line per kind the role may read: the count (a link to its page), and for containers their states."""
        counts: dict[str, ui.link] = {}
        for kind, permission in COUNTED.items():
            if not self.identity.can(permission):
                continue
            with ui.row().classes('items-baseline gap-2'):
                counts[kind] = (
                    ui.link('', f'/{kind}').classes('text-subtitle1').props(f'data-count={kind}').mark(f'count-{kind}')
                )
                if kind == 'containers':
                    self.container_states = ui.label().classes('text-caption').props('data-count=container-states')
                prune = PRUNES.get(kind)
                if prune is not None and self.identity.can(prune[1]):
                    ui.link(f'Prune {kind}…', prune[0]).classes('text-caption')
        return counts

    def _render_counts(self) -> None:
        state = self.services.state
        states = [row.state for row in state.containers.values() if row.endpoint == LOCAL_ENDPOINT]
        running = states.count(ContainerState.RUNNING)
        paused = states.count(ContainerState.PAUSED)
        self.container_states.text = f'{running} running · {paused} paused · {len(states) - running - paused} stopped'
        sizes = {
            'containers': len(states),
            'images': sum(1 for row in state.images.values() if row.endpoint == LOCAL_ENDPOINT),
            'volumes': sum(1 for row in state.volumes.values() if row.endpoint == LOCAL_ENDPOINT),
            'networks': sum(1 for row in state.networks.values() if row.endpoint == LOCAL_ENDPOINT),
        }
        for kind, link in self.counts.items():
            link.text = f'{sizes[kind]} {kind}'

    def _render_top(self) -> None:
        leaders, sampler = self.services.usage_leaders, self.services.usage
        containers = self.services.state.containers

        def entries(ranked: list[Usage], figure: str) -> list[TopEntry]:
            return [
                TopEntry(
                    name=containers[usage.container_id].name,
                    endpoint=containers[usage.container_id].endpoint,
                    figure=usage_cells(usage)[figure],
                    age=sampler.age(usage),
                )
                for usage in ranked
                if usage.container_id in containers
            ]

        self.top_cpu.show(entries(leaders.by_cpu(), 'cpu'))
        self.top_memory.show(entries(leaders.by_memory(), 'memory'))
        running = self.services.running_containers()
        sampled = sum(1 for container_id in running if container_id in sampler.samples)
        self.top_note.text = (
            f'Ranked over the latest figures of {sampled} of {len(running)} running containers; the leaders are '
            f'read again every few seconds, the others in turn. Stats reads: {sampler.request_rate():.1f} per second.'
        )

    def _render_jobs(self) -> None:
        recent = self.services.jobs.recent()
        for column, jobs in (
            (self.recent_jobs, recent[:RECENT_JOBS]),
            (self.recent_failures, [job for job in recent if job.status == JobStatus.FAILED][:RECENT_JOBS]),
        ):
            column.clear()
            with column:
                if not jobs:
                    ui.label('None.').classes('text-caption')
                for job in jobs:
                    with ui.row().classes('w-full no-wrap items-center gap-2').props('role=listitem'):
                        ui.badge(job.status.value, color=STATUS_COLORS.get(job.status, 'negative'))
                        ui.link(f'{job.kind} {job.target_name}', f'/jobs/{job.job_id}').classes('grow break-all')
                        ui.label(job.requested_by).classes('text-caption')
                        ui.label(time.strftime('%H:%M:%S', time.localtime(job.created_at))).classes('text-caption')
                    if job.status == JobStatus.FAILED and job.message:
                        ui.label(job.message).classes('text-caption text-negative break-all')


def engine_lines(facts: EngineFacts) -> list[tuple[str, str]]:
    return [
        ('Docker', f'{facts.version} (API {facts.api_version})'),
        ('Host', facts.name),
        ('OS', f'{facts.os} · {facts.architecture}'),
        ('Kernel', facts.kernel),
        ('CPUs', str(facts.cpus)),
        ('Memory', format_size(facts.memory)),
        ('Storage driver', facts.storage_driver),
        ('Runtimes', f'{", ".join(facts.runtimes)} (default {facts.default_runtime})'),
    ]
