"""What actors need, built once per process: the Docker endpoint and the bus they report through."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import docker

from core.bus import Bus, make_bus
from core.cancel import CancelFlags, make_cancel_flags
from core.docker_access import make_client
from core.jobs import JobUpdate
from core.secrets import SecretBox
from core.settings import Settings

HEARTBEAT_SECONDS = 5.0


@dataclass(kw_only=True, slots=True)
class WorkerContext:
    bus: Bus
    docker_host: str | None
    cancel: CancelFlags
    secrets: SecretBox | None = None  # opens registry credentials the panel sealed; None: this worker has no key

    def docker(self) -> docker.DockerClient:
        return make_client(self.docker_host)


_context: WorkerContext | None = None
_lock = threading.Lock()


def configure(bus: Bus, docker_host: str | None, *, cancel: CancelFlags | None = None,
              secrets: SecretBox | None = None) -> None:
    """The panel hands its own bus (and cancel flags, and key) over in the embedded mode: all stays in-process."""
    global _context
    _context = WorkerContext(bus=bus, docker_host=docker_host, cancel=cancel or make_cancel_flags(None),
                             secrets=secrets)


def context() -> WorkerContext:
    """The context; a standalone ``dramatiq tasks`` worker builds it from the environment."""
    global _context
    with _lock:
        if _context is None:
            settings = Settings()
            _context = WorkerContext(bus=make_bus(settings.redis_url), docker_host=settings.docker_host,
                                     cancel=make_cancel_flags(settings.redis_url),
                                     secrets=SecretBox.from_settings(settings, create=False))
        return _context


class JobReporter:
    """Publishes running, a heartbeat while the job runs, and the end: every job ends succeeded or failed."""

    def __init__(self, bus: Bus, job: dict[str, Any]) -> None:
        self.bus = bus
        self.job = {key: str(job.get(key, '')) for key in ('job_id', 'kind', 'target', 'target_name', 'requested_by')}
        self._stop = threading.Event()
        self._heartbeat = threading.Thread(target=self._beat, name=f"berth-heartbeat-{self.job['job_id'][:8]}",
                                           daemon=True)

    def __enter__(self) -> JobReporter:
        self.publish('running')
        self._heartbeat.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._stop.set()

    def publish(self, status: str, message: str = '', progress: float | None = None,
                detail: dict[str, Any] | None = None, output: str = '') -> None:
        self.bus.publish(JobUpdate(status=status, message=message, progress=progress, detail=detail, output=output,
                                   **self.job))

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            self.publish('heartbeat')
