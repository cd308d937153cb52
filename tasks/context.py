"""What actors need, built once per process: the Docker endpoint and the bus they report through."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import docker
from docker import DockerClient

from core.docker.client import make_client
from core.jobs.bus import Bus, make_bus
from core.jobs.cancel import CancelFlags, make_cancel_flags
from core.jobs.seal import JobClaims, JobRefused, make_job_claims
from core.jobs.store import JobUpdate
from core.protection import Protection
from core.settings import Settings
from core.storage.credentials import SecretBox

HEARTBEAT_SECONDS = 5.0
log = logging.getLogger(__name__)


@dataclass(kw_only=True, slots=True)
class WorkerContext:
    bus: Bus
    docker_host: str | None
    cancel: CancelFlags
    secrets: SecretBox | None = None  # opens registry credentials the panel sealed; None: this worker has no key
    claims: JobClaims = field(default_factory=JobClaims)
    protection: Protection | None = None  # the worker's own container, found on first use
    settings: Settings | None = None  # a standalone worker's settings: the key file may appear after it started

    def docker(self) -> docker.DockerClient:
        return make_client(self.docker_host)

    def admit(self, job: dict[str, Any], arguments: tuple[Any, ...], params: dict[str, Any]) -> None:
        """Raises :class:`JobRefused` unless the panel signed this job and no worker has started it before."""
        if self.secrets is None and self.settings is not None:
            self.secrets = SecretBox.from_settings(self.settings, create=False)
        if self.secrets is None:
            raise JobRefused(
                'refused: this worker has no key to check that the job came from the panel: give the '
                'panel and every worker the same BERTH_SECRET_KEY (or the same BERTH_DATA_DIR)'
            )
        self.secrets.signer.verify(job, arguments, params)
        if not self.claims.claim(str(job.get('job_id', ''))):
            raise Replayed(f'job {job.get("job_id")} has been started before')

    def own_protection(self, client: DockerClient) -> Protection:
        if self.protection is None:
            self.protection = Protection.discover(client)
        return self.protection


class Replayed(JobRefused):
    """The same signed message again (a replay, or a redelivery): it never runs twice."""


_context: WorkerContext | None = None
_lock = threading.Lock()


def configure(
    bus: Bus,
    docker_host: str | None,
    *,
    cancel: CancelFlags | None = None,
    secrets: SecretBox | None = None,
    protection: Protection | None = None,
) -> None:
    """The panel hands its own bus (and cancel flags, and key) over in the embedded mode: all stays in-process."""
    global _context
    _context = WorkerContext(
        bus=bus,
        docker_host=docker_host,
        cancel=cancel or make_cancel_flags(None),
        secrets=secrets,
        protection=protection,
    )


def context() -> WorkerContext:
    """The context; a standalone ``dramatiq tasks`` worker builds it from the environment."""
    global _context
    with _lock:
        if _context is None:
            settings = Settings()
            _context = WorkerContext(
                bus=make_bus(settings.redis_url),
                docker_host=settings.docker_host,
                cancel=make_cancel_flags(settings.redis_url),
                secrets=SecretBox.from_settings(settings, create=False),
                claims=make_job_claims(settings.redis_url),
                settings=settings,
            )
        return _context


class JobReporter:
    """Publishes running, a heartbeat while the job runs, and the end: every job ends succeeded or failed."""

    def __init__(self, bus: Bus, job: dict[str, Any]) -> None:
        self.bus = bus
        fields = ('job_id', 'kind', 'target', 'target_name', 'requested_by')
        self.job: dict[str, Any] = {key: str(job.get(key, '')) for key in fields}
        self._stop = threading.Event()
        self._heartbeat = threading.Thread(
            target=self._beat, name=f'berth-heartbeat-{self.job["job_id"][:8]}', daemon=True
        )

    def __enter__(self) -> JobReporter:
        self.publish('running')
        self._heartbeat.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._stop.set()

    def publish(
        self,
        status: str,
        message: str = '',
        progress: float | None = None,
        detail: dict[str, Any] | None = None,
        output: str = '',
    ) -> None:
        self.bus.publish(
            JobUpdate(status=status, message=message, progress=progress, detail=detail, output=output, **self.job)
        )

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            self.publish('heartbeat')


Actor = Callable[..., None]


def admitted(actor: Actor) -> Actor:
    """Runs the actor only for a job the panel signed, once (see :mod:`core.jobs.seal`); a refusal fails the job with
    its sentence, a replay is only logged (the job it copies keeps its own outcome)."""

    @functools.wraps(actor)
    def run(job: dict[str, Any], *arguments: Any) -> None:
        worker = context()
        try:
            worker.admit(job, arguments[:-1], arguments[-1] if arguments else {})
        except Replayed as replay:
            log.warning('not running a job again: %s', replay)
            return
        except JobRefused as refusal:
            log.warning('refused a job message: %s', refusal)
            JobReporter(worker.bus, job).publish('failed', str(refusal))
            return
        actor(job, *arguments)

    return run
