"""The sandbox as the panel holds it: the runtimes, the record of runs, the line they wait in, the size caps."""

from __future__ import annotations

from dataclasses import dataclass

from core.commands.base import Hold
from core.jobs.store import FINISHED, Job, JobUpdate
from core.sandbox.line import RunLine, Send
from core.sandbox.run import RunRequest
from core.sandbox.runs import KIND, SandboxRun, SandboxRuns
from core.sandbox.runtimes import Runtimes
from core.settings import Settings
from core.storage.database import Database


@dataclass(kw_only=True)
class Sandbox:
    runtimes: Runtimes
    runs: SandboxRuns
    line: RunLine
    script_max: int  # bytes
    stdin_max: int  # bytes
    isolation: str = ''  # the engine runtime runs use (BERTH_SANDBOX_RUNTIME); '' the engine's default

    @classmethod
    def from_settings(cls, settings: Settings, database: Database) -> Sandbox:
        return cls(
            runtimes=Runtimes(database),
            runs=SandboxRuns(database, keep=settings.sandbox_history),
            line=RunLine(total=settings.sandbox_concurrency, per_user=settings.sandbox_per_user),
            script_max=settings.sandbox_script_kb * 1024,
            stdin_max=settings.sandbox_stdin_kb * 1024,
            isolation=settings.sandbox_runtime,
        )

    def on_job(self, job: Job, update: JobUpdate) -> None:
        """A JobStore listener: folds a run's updates into its record; an ended run leaves the line."""
        if job.kind != KIND:
            return
        self.runs.apply(job, update)
        if update.status in FINISHED:
            self.line.leave(job.job_id)

    def hold(self, request: RunRequest) -> Hold:
        """What ``Commands.dispatch`` hands a run's queued job to: the run is recorded and joins the line."""

        def join(job: Job, send: Send) -> None:
            self.runs.add(SandboxRun.of(job.job_id, request, job.endpoint))
            self.line.join(job.job_id, request.owner, send)

        return join
