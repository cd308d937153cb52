"""How a job reports back to the panel: running, a heartbeat while it runs, and how it ended."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from core.jobs.bus import Bus
from core.jobs.store import JobStatus, JobUpdate
from core.permissions import LOCAL_ENDPOINT

HEARTBEAT_SECONDS = 5.0


class JobReporter:
    """Publishes running, a heartbeat while the job runs, and the end: every job ends succeeded or failed."""

    def __init__(self, bus: Bus, job: dict[str, Any]) -> None:
        self.bus = bus
        fields = ('job_id', 'kind', 'target', 'target_name', 'requested_by')
        self.job: dict[str, Any] = {key: str(job.get(key, '')) for key in fields}
        self.job['endpoint'] = str(job.get('endpoint') or LOCAL_ENDPOINT)  # other panels learn where it ran
        self.job['owner'] = str(job.get('owner') or '')  # and whose resource it acted on
        self._stop = threading.Event()
        self._heartbeat = threading.Thread(
            target=self._beat, name=f'berth-heartbeat-{self.job["job_id"][:8]}', daemon=True
        )

    def __enter__(self) -> JobReporter:
        self.publish(JobStatus.RUNNING)
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
            self.publish(JobStatus.HEARTBEAT)
