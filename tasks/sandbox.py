"""The sandbox actor: one script run in a throwaway, locked-down container, on the sandbox queue."""

from __future__ import annotations

from typing import Any

from core.jobs.store import JobStatus
from core.operations import sandbox
from core.sandbox.limits import CEILINGS
from core.sandbox.runs import KIND

from .broker import SANDBOX_QUEUE
from .context import Run, actor


@actor(minutes=CEILINGS.timeout / 60 + 5, queue=SANDBOX_QUEUE)  # the run's own wall clock is enforced inside
def sandbox_run(run: Run, params: dict[str, Any]) -> None:
    """One run; the worker checks the requester, the runtime and its body again, with the role the panel signed."""
    if run.job.get('kind') != KIND:
        run.reporter.publish(JobStatus.FAILED, f'refused: a {run.job.get("kind")} job cannot run a script')
        return
    role = str(run.job.get('role') or '')  # signed by the panel (core/jobs/seal.py)
    try:
        sandbox.sandbox_run(
            run.endpoint, run.reporter, run.job_id, params, role, lambda: run.context.cancel.requested_by(run.job_id)
        )
    finally:
        run.context.cancel.clear(run.job_id)
