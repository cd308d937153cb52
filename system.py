"""The composition root: builds every service once and hands the one system object to pages, auth and workers.

The only module that imports core, auth and tasks together; ``main.py`` parses arguments and calls :func:`build`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import docker
import dramatiq
from nicegui import app

import auth.setup
import pages
from auth.accounts import Accounts
from auth.session import Sessions
from components import error_page
from components.notifications import JobNotifier
from core.commands.dispatch import Commands
from core.commands.environments import SYSTEM
from core.docker.endpoint_store import StoredEndpoints
from core.docker.endpoint_sync import apply_stored
from core.docker.endpoints import Endpoints
from core.docker.reads import EngineReads
from core.endpoint_role_store import EndpointRoleTable
from core.endpoint_roles import EndpointRoles
from core.environments.idle import IdleWatch
from core.environments.quotas import QuotaRules
from core.environments.templates import Templates
from core.jobs.bus import Bus, make_bus
from core.jobs.cancel import CancelFlags, make_cancel_flags
from core.jobs.reconcile import JobReconciler
from core.jobs.store import FINISHED, Job, JobStore, JobUpdate
from core.permissions import LOCAL_ENDPOINT, Identity
from core.protection import Protection
from core.sandbox.service import Sandbox
from core.settings import Settings
from core.stacks.store import Stacks
from core.state.containers import ContainerState
from core.state.model import DockerState
from core.state.watchers import Watchers
from core.storage import make_database
from core.storage.audit import AuditLog
from core.storage.credentials import RegistryCredentials, SecretBox
from core.storage.database import Database
from core.streams.exec_session import Terminals
from core.streams.quota import StreamQuota
from core.streams.recording import Recordings
from core.streams.session_marks import SessionMarks
from core.streams.stats_hub import StatsHub
from core.streams.usage import UsageSampler, docker_read
from core.streams.usage_leaders import UsageLeaders
from core.updates.results import UpdateResults
from core.updates.schedule import UpdateSchedule
from tasks.actors import Actors, declare
from tasks.broker import QUEUE, SANDBOX_QUEUE, make_broker, start_worker
from tasks.context import WorkerContext

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class Services:
    settings: Settings
    endpoints: Endpoints  # the Docker engines, and the panel's shared client for each
    database: Database
    accounts: Accounts
    sessions: Sessions
    audit: AuditLog
    state: DockerState
    watchers: Watchers  # one event watcher per endpoint
    bus: Bus
    jobs: JobStore
    commands: Commands
    secrets: SecretBox
    credentials: RegistryCredentials
    stored_endpoints: StoredEndpoints  # endpoints added in /admin/endpoints, sealed with the panel's key
    endpoint_roles: (
        EndpointRoleTable  # per-host roles: the setting's and /admin/host-roles' (the sessions resolve them)
    )
    cancel: CancelFlags
    terminals: Terminals  # open terminal sessions, ended at stop
    stats: StatsHub  # one daemon stats stream per container, shared by its viewers; ended at stop
    terminal_quota: StreamQuota
    recordings: Recordings  # terminal sessions as asciicast files, swept after their retention
    log_quota: StreamQuota
    protection: Protection  # the panel's own containers: found at start
    broker: dramatiq.Broker  # chosen once from the settings; without Redis, the embedded worker's
    actors: Actors  # declared on ``broker``
    templates: Templates  # what dev environments are made from (seeded from BERTH_DATA_DIR/templates.yaml)
    quotas: QuotaRules  # how many environments, running, CPUs and memory each person may have (/admin/quotas)
    sandbox: Sandbox  # script runs: runtimes (seeded from BERTH_DATA_DIR/runtimes.yaml), runs, their line
    updates: UpdateResults  # image update checks: results, and ``available(endpoint, reference)`` for every page
    reads: EngineReads = field(init=False)  # what pages read beyond the live state, off the loop
    usage: UsageSampler = field(init=False)  # coarse CPU/memory figures for the containers pages show
    usage_leaders: UsageLeaders = field(init=False)  # the dashboard's top lists, on a budget
    idle: IdleWatch = field(init=False)  # stops environments nobody used for their idle timeout
    reconciler: JobReconciler = field(init=False)  # the job centre right after Redis or the panel was away
    update_schedule: UpdateSchedule = field(init=False)  # checks references in use every BERTH_UPDATE_CHECK_MINUTES
    _host_reads: dict[str, EngineReads] = field(default_factory=dict)
    _worker: dramatiq.Worker | None = None
    _sandbox_worker: dramatiq.Worker | None = None  # the embedded sandbox queue's own threads
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.reads = EngineReads(self.docker)
        self.reconciler = JobReconciler(self.jobs, self.bus)
        self.usage = UsageSampler(docker_read(self.docker), self.running_containers)
        self.usage_leaders = UsageLeaders(self.usage, self.running_containers)
        self.idle = IdleWatch(
            self.state, self.terminals, self.commands.idle_stop, minute_seconds=self.settings.idle_minute_seconds
        )
        self.update_schedule = UpdateSchedule(
            self.updates,
            lambda endpoint, references: self.commands.update_check(SYSTEM, endpoint, references),
            minutes=self.settings.update_check_minutes,
            endpoints=lambda: list(self.endpoints.ids),
        )

    def docker(self, endpoint: str = LOCAL_ENDPOINT) -> docker.DockerClient:
        """The endpoint's shared client for the panel's own reads (inspect); call it through ``run.io_bound``."""
        return self.endpoints.client(endpoint)

    def host_reads(self, endpoint: str = LOCAL_ENDPOINT) -> EngineReads:
        """What pages read beyond the live state from ``endpoint``'s engine (``reads`` is local's)."""
        if endpoint == LOCAL_ENDPOINT:
            return self.reads
        reads = self._host_reads.get(endpoint)
        if reads is None:
            reads = self._host_reads[endpoint] = EngineReads(lambda: self.docker(endpoint), endpoint)
        return reads

    def container_reads(self, container_id: str) -> EngineReads:
        """The reads of the endpoint the container is on (by its id in the live state; ids are unique across
        engines), local's for one the state does not know."""
        row = self.state.containers.get(container_id)
        return self.host_reads(row.endpoint if row is not None else LOCAL_ENDPOINT)

    def running_containers(self) -> list[str]:
        """Ids of the containers running now, from the live state (on the loop)."""
        return [row.id for row in self.state.containers.values() if row.state == ContainerState.RUNNING]

    async def start(self) -> None:
        """Starts the watcher, the bus subscriber, the embedded worker (if any), the lost-job check and the sweep that
        closes pages of ended sessions."""
        if self._tasks:
            return  # started already (a test harness may run the app's lifespan twice)
        loop = asyncio.get_running_loop()
        self.protection.adopt(await loop.run_in_executor(None, self._discover_protection))
        self.watchers.start(loop)
        self.reconciler.start()  # before the bus: its first connection reconciles the jobs a stopped panel left
        self.bus.start(loop, self.jobs.apply)
        self.usage.start()
        self.idle.start()
        self.update_schedule.start()

        if self.settings.embedded:
            self._worker = start_worker(self.broker, self.settings.worker_threads, {QUEUE})
            # sandbox runs have threads of their own: a run never waits for a container action, nor delays one
            self._sandbox_worker = start_worker(self.broker, self.settings.sandbox_concurrency, {SANDBOX_QUEUE})
        self._tasks.append(asyncio.create_task(self._check_lost_jobs()))
        self._tasks.append(asyncio.create_task(self.sessions.sweep()))
        self._tasks.append(asyncio.create_task(self._sweep_recordings()))
        if self.terminals.marks is not None:  # shells a killed panel left in containers
            self._tasks.append(
                asyncio.create_task(asyncio.to_thread(self.terminals.marks.hang_up_left_behind, self.endpoints))
            )

    def _discover_protection(self) -> Protection:
        try:
            return Protection.discover(self.docker())
        except Exception as error:  # no engine yet: the own container id alone still counts
            log.warning("could not look up the panel's own container: %s", error)
            return Protection.discover(None)

    async def stop(self) -> None:
        self.watchers.stop()
        self.bus.stop()
        await self.usage.stop()
        await self.idle.stop()
        await self.update_schedule.stop()
        for task in self._tasks:
            task.cancel()
        await self.terminals.stop()
        self.stats.stop()
        for worker in (self._sandbox_worker, self._worker):
            if worker is not None:
                await asyncio.get_running_loop().run_in_executor(None, worker.stop)
        self.broker.close()
        self.endpoints.close()
        await asyncio.get_running_loop().run_in_executor(None, self.database.writer.stop)  # the last jobs and audit

    async def _sweep_recordings(self) -> None:
        while True:
            deleted = await asyncio.to_thread(self.recordings.sweep)
            if deleted:
                log.info('deleted %d terminal recordings older than %g days', deleted, self.recordings.days)
            await asyncio.sleep(3600)

    async def _check_lost_jobs(self) -> None:
        while True:
            await asyncio.sleep(max(1.0, self.jobs.lost_after / 6))
            await self.reconciler.check_lost()

    def owner_identity(self, owner_id: str) -> Identity | None:
        """The account whose stable id is ``owner_id``, as an identity (role, groups), from memory."""
        for account in self.accounts.known():
            if account.owner_id == owner_id:
                return Identity(
                    username=account.username, role=account.role, subject=account.owner_id, groups=account.groups
                )
        return None

    def audit_finished_job(self, job: Job, update: JobUpdate) -> None:
        # with several panels on one Redis, the one that queued the job audits its end (once)
        if update.status in FINISHED and update.status == job.status and job.queued_here:
            system = job.requested_by == SYSTEM.username  # an idle stop: no account to look up
            account = None if system else self.accounts.cached(job.requested_by)
            self.audit.record(
                username=job.requested_by,
                role=SYSTEM.role if system else account.role if account else '',
                action=job.kind,
                target=job.target_name,
                params={'job': job.job_id},
                result=f'{job.status}: {job.message}' if job.message else job.status,
            )


def build(settings: Settings) -> Services:
    settings.ensure_data_dir()
    database = make_database(settings)
    accounts = Accounts(database)
    audit = AuditLog(database)
    state = DockerState()
    # with Redis, workers are other processes: jobs active when the panel stopped may run on (core/jobs/reconcile.py)
    jobs = JobStore(
        database, history=settings.job_history, lost_after=settings.job_lost_after, keep_active=not settings.embedded
    )
    bus = make_bus(settings.redis_url)

    secrets = SecretBox.from_settings(settings)
    assert secrets is not None  # the panel makes its key file when no BERTH_SECRET_KEY is given
    credentials = RegistryCredentials(database, secrets)
    cancel = make_cancel_flags(settings.redis_url)
    protection = Protection()
    endpoints = Endpoints.from_settings(settings)
    stored_endpoints = StoredEndpoints(database, secrets)
    apply_stored(endpoints, stored_endpoints.load())  # never over an id the settings define
    broker = make_broker(settings)
    actors = declare(broker)
    templates = Templates(database)
    quotas = QuotaRules(database)
    sandbox = Sandbox.from_settings(settings, database)
    updates = UpdateResults(database, state)
    if settings.embedded:  # worker threads in this process run the actors with the panel's own bus, flags and key
        broker.add_middleware(
            WorkerContext(
                endpoints=endpoints,
                bus=bus,
                cancel=cancel,
                secrets=secrets,
                protection=protection,
                sandbox_sweep=settings.sandbox_sweep_seconds,
                stacks_root=settings.data_dir / 'stacks',
            )
        )
    # per-host roles: the setting's, merged with those admins store in the page (the setting wins for what it names)
    endpoint_roles = EndpointRoleTable(database, EndpointRoles.parse(settings.oidc_endpoint_roles))
    endpoint_roles.refresh()
    services = Services(
        settings=settings,
        endpoints=endpoints,
        database=database,
        accounts=accounts,
        sessions=Sessions(
            accounts,
            idle_seconds=settings.session_idle_minutes * 60,
            max_seconds=settings.session_max_hours * 3600,
            endpoint_roles=endpoint_roles,
        ),
        audit=audit,
        state=state,
        watchers=Watchers(state, endpoints),
        bus=bus,
        jobs=jobs,
        commands=Commands(
            state=state,
            jobs=jobs,
            audit=audit,
            credentials=credentials,
            cancel=cancel,
            protection=protection,
            endpoints=endpoints,
            signer=secrets.signer,
            senders=actors.senders(per_endpoint=not settings.embedded),
            templates=templates,
            quotas=quotas,
            sandbox=sandbox,
            stacks=Stacks(settings.data_dir / 'stacks'),
        ),
        secrets=secrets,
        credentials=credentials,
        stored_endpoints=stored_endpoints,
        endpoint_roles=endpoint_roles,
        cancel=cancel,
        terminals=Terminals(endpoints, SessionMarks(settings.data_dir / 'terminals')),
        stats=StatsHub(endpoints, state),
        terminal_quota=StreamQuota(kind='terminals', limit=settings.terminals_per_user),
        recordings=Recordings(
            settings.data_dir / 'recordings',
            record_input=settings.record_input,
            max_bytes=int(settings.recording_max_mb * 2**20) if settings.record_terminals else 0,
            days=settings.recording_days,
        ),
        log_quota=StreamQuota(kind='log views', limit=settings.log_views_per_user),
        protection=protection,
        broker=broker,
        actors=actors,
        templates=templates,
        quotas=quotas,
        sandbox=sandbox,
        updates=updates,
    )
    services.commands.owners = services.owner_identity
    jobs.subscribe(services.audit_finished_job)
    jobs.subscribe(sandbox.on_job)
    jobs.subscribe(updates.on_job)
    return services


def create(settings: Settings) -> Services:
    """Builds the services, the first admin, sign-in, the pages and the notifier; starts and stops with the app."""
    services = build(settings)
    generated = services.accounts.ensure_first_admin(settings.admin_password)
    if generated:
        print(
            f'Berth: created the local account "admin" with password: {generated}\n'
            'Berth: it is shown only this once; set BERTH_ADMIN_PASSWORD to choose it yourself.',
            flush=True,
        )
    for problem in services.templates.seed(settings.data_dir / 'templates.yaml'):
        log.warning('environment template not loaded: %s', problem)
    for problem in services.sandbox.runtimes.seed(settings.data_dir / 'runtimes.yaml'):
        log.warning('sandbox runtime not loaded: %s', problem)
    auth.setup.setup(settings, services.accounts, services.sessions, services.audit)
    pages.register(services)
    error_page.register()
    JobNotifier(services)
    app.on_startup(services.start)
    app.on_shutdown(services.stop)
    return services
