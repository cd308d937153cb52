"""What actors need, handed to them by the broker that runs them: the :class:`WorkerContext` middleware.

The panel (embedded worker threads) and ``dramatiq tasks`` (``tasks/worker.py``) each add one to their broker; an
actor finds the context on the broker it was declared on, so no module keeps any state. :func:`actor` defines an
actor body; :meth:`ActorDefinition.declare` declares it on a broker behind the admission check.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import dramatiq

from core.docker.endpoint_sync import EndpointSync
from core.docker.endpoints import Endpoint, Endpoints, UnknownEndpoint
from core.jobs.bus import Bus, make_bus
from core.jobs.cancel import CancelFlags, make_cancel_flags
from core.jobs.locks import Locks, make_locks
from core.jobs.seal import JobClaims, JobRefused, make_job_claims
from core.jobs.store import JobStatus
from core.operations.report import JobReporter
from core.permissions import LOCAL_ENDPOINT
from core.protection import Protection
from core.sandbox.janitor import Janitor
from core.settings import Settings
from core.storage.credentials import SecretBox

from .broker import QUEUE, SANDBOX_QUEUE

log = logging.getLogger(__name__)


class WorkerContext(dramatiq.Middleware):
    """The endpoints, the bus, the cancel flags, the key, the job claims and the shared locks of the process that runs
    the actors.

    A middleware, so that it belongs to one broker: :meth:`of` finds it there.
    """

    def __init__(
        self,
        *,
        endpoints: Endpoints,
        bus: Bus,
        cancel: CancelFlags,
        secrets: SecretBox | None = None,  # opens credentials the panel sealed; None: this worker has no key
        claims: JobClaims | None = None,
        protection: Protection | None = None,  # the worker's own containers, found on first use
        settings: Settings | None = None,  # a standalone worker's settings: the key file may appear after it started
        locks: Locks | None = None,  # shared by every worker (quota checks); in-process for the embedded worker
        sandbox_sweep: float | None = None,  # sweep for sandbox containers left behind this often; None: never
        stacks_root: Path | None = None,  # BERTH_DATA_DIR/stacks: where compose runs a stack (else a scratch directory)
        sync: EndpointSync | None = None,  # a standalone worker's endpoints, kept in step with /admin/endpoints
    ) -> None:
        self.endpoints = endpoints
        self.bus = bus
        self.cancel = cancel
        self.secrets = secrets
        self.claims = claims or JobClaims()
        # Berth's own containers per endpoint, found on first use; the panel's (found on local at its start) given
        self._protections: dict[str, Protection] = {LOCAL_ENDPOINT: protection} if protection is not None else {}
        self._protection_lock = threading.Lock()
        self.settings = settings
        self.locks = locks or Locks()
        self.sandbox_sweep = sandbox_sweep
        self.stacks_root = stacks_root
        self.sync = sync
        self._janitor: Janitor | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerContext:
        """A standalone worker's context: the endpoints it serves (those of its settings and of /admin/endpoints, or
        only ``BERTH_WORKER_ENDPOINTS``: see :class:`EndpointSync`), its own bus, flags and claims on Redis, and the
        key it can read."""
        sync = EndpointSync(settings)
        return cls(
            endpoints=sync.endpoints,
            sync=sync,
            bus=make_bus(settings.redis_url),
            cancel=make_cancel_flags(settings.redis_url),
            secrets=SecretBox.from_settings(settings, create=False),
            claims=make_job_claims(settings.redis_url),
            settings=settings,
            locks=make_locks(settings.redis_url),
            sandbox_sweep=settings.sandbox_sweep_seconds,
            stacks_root=settings.data_dir / 'stacks',
        )

    @staticmethod
    def of(broker: dramatiq.Broker) -> WorkerContext:
        for middleware in broker.middleware:
            if isinstance(middleware, WorkerContext):
                return middleware
        raise LookupError('this broker runs no actors: it has no WorkerContext middleware')

    def admit(self, job: dict[str, Any], arguments: tuple[Any, ...], params: dict[str, Any]) -> Endpoint:
        """The endpoint the job runs against; raises :class:`JobRefused` unless the panel signed this job, this worker
        serves its endpoint, and no worker has started it before."""
        if self.secrets is None and self.settings is not None:
            self.secrets = SecretBox.from_settings(self.settings, create=False)
        if self.secrets is None:
            raise JobRefused(
                'refused: this worker has no key to check that the job came from the panel: give the '
                'panel and every worker the same BERTH_SECRET_KEY (or the same BERTH_DATA_DIR)'
            )
        self.secrets.signer.verify(job, arguments, params)
        endpoint_id = str(job.get('endpoint') or '')
        if not endpoint_id:
            raise JobRefused('refused: the job names no Docker endpoint')
        endpoint = self._endpoint(endpoint_id)
        if not self.claims.claim(str(job.get('job_id', ''))):
            raise Replayed(f'job {job.get("job_id")} has been started before')
        return endpoint

    def _endpoint(self, endpoint_id: str) -> Endpoint:
        """The job's endpoint; one this worker does not know yet makes it read the stored endpoints again, once."""
        try:
            return self.endpoints.get(endpoint_id)
        except UnknownEndpoint as unknown:
            known = unknown.known
        if self.sync is not None and (self.sync.served is None or endpoint_id in self.sync.served):
            self.sync.reload()
            try:
                return self.endpoints.get(endpoint_id)
            except UnknownEndpoint as unknown:
                known = unknown.known
            raise JobRefused(
                f'refused: this worker does not know the Docker endpoint "{endpoint_id}" '
                f'(it knows {", ".join(known) or "none"}), not even after reading the endpoints again: add it in '
                "/admin/endpoints or BERTH_ENDPOINTS, and give the worker the panel's database "
                '(BERTH_DATABASE_URL, or the same BERTH_DATA_DIR) and BERTH_SECRET_KEY'
            )
        raise JobRefused(
            f'refused: this worker does not serve the Docker endpoint "{endpoint_id}" (it serves {", ".join(known)})'
        )

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        """Sandbox containers left behind by a killed worker or panel are removed now, and then periodically; the
        stored endpoints are read every few seconds."""
        if self.sync is not None:
            self.sync.start()
        if self.sandbox_sweep is not None and self._janitor is None:
            self._janitor = Janitor(self.endpoints, self.sandbox_sweep)
            self._janitor.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if self.sync is not None:
            self.sync.stop()
        if self._janitor is not None:
            self._janitor.stop()
            self._janitor = None

    def own_protection(self, endpoint_id: str, client: docker.DockerClient) -> Protection:
        """Berth's own containers on that endpoint, found on its engine the first time (this process's container and
        compose project live on one engine only; elsewhere only labelled containers are Berth's). The panel's embedded
        worker is given what the panel found on ``local``."""
        with self._protection_lock:
            known = self._protections.get(endpoint_id)
        if known is not None:
            return known
        found = Protection.on_engine(client)
        if found is None:  # the engine could not tell: this process's own id still counts, and it asks again later
            return Protection.discover(None)
        with self._protection_lock:
            return self._protections.setdefault(endpoint_id, found)


class Replayed(JobRefused):
    """The same signed message again (a replay, or a redelivery): it never runs twice."""


@dataclass(kw_only=True, slots=True, frozen=True)
class Run:
    """One admitted job, as its actor body gets it."""

    context: WorkerContext
    endpoint: Endpoint
    job: dict[str, Any]
    reporter: JobReporter

    @property
    def job_id(self) -> str:
        return str(self.job.get('job_id', ''))

    def own_protection(self, client: docker.DockerClient) -> Protection:
        """Berth's own containers on this job's endpoint (``client`` is connected to it)."""
        return self.context.own_protection(self.endpoint.id, client)


Body = Callable[..., None]  # (run: Run, *arguments): what the panel sent after the job payload


@dataclass(kw_only=True, slots=True, frozen=True)
class ActorDefinition:
    """An actor body and its options, declared on a broker by :meth:`declare` (see ``tasks.actors.declare``)."""

    body: Body
    options: dict[str, Any] = field(default_factory=dict)
    queue: str = QUEUE

    @property
    def name(self) -> str:
        return self.body.__name__

    def declare(self, broker: dramatiq.Broker) -> dramatiq.Actor[..., None]:
        """The actor on ``broker``: not retried (a repeated stop or remove would only repeat the daemon's answer), and
        run only for a job the panel signed, once (see :mod:`core.jobs.seal`). A refusal fails the job with its
        sentence; a replay is only logged (the job it copies keeps its own outcome)."""
        body = self.body

        def admitted(job: dict[str, Any], *arguments: Any) -> None:
            context = WorkerContext.of(broker)
            try:
                endpoint = context.admit(job, arguments[:-1], arguments[-1] if arguments else {})
            except Replayed as replay:
                log.warning('not running a job again: %s', replay)
                return
            except JobRefused as refusal:
                log.warning('refused a job message: %s', refusal)
                JobReporter(context.bus, job).publish(JobStatus.FAILED, str(refusal))
                return
            with JobReporter(context.bus, job) as reporter:
                body(Run(context=context, endpoint=endpoint, job=job, reporter=reporter), *arguments)

        admitted.__name__ = admitted.__qualname__ = self.name
        admitted.__doc__, admitted.__module__ = body.__doc__, body.__module__
        declare = dramatiq.actor(
            broker=broker, actor_name=self.name, queue_name=self.queue, max_retries=0, **self.options
        )
        return declare(admitted)


def actor(*, minutes: float, queue: str = QUEUE) -> Callable[[Body], ActorDefinition]:
    """Defines an actor body that may run ``minutes`` at most, on ``queue`` (``SANDBOX_QUEUE`` for sandbox runs);
    declared later, on the broker of whoever runs it."""
    assert queue in (QUEUE, SANDBOX_QUEUE), queue

    def define(body: Body) -> ActorDefinition:
        return ActorDefinition(body=body, options={'time_limit': int(minutes * 60 * 1000)}, queue=queue)

    return define
