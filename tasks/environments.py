"""The dev environment actor: create from a template, delete (keeping the volumes or not), hand over, idle stop."""

from __future__ import annotations

from typing import Any

from core.jobs.store import JobStatus
from core.operations import environments

from .context import Run, actor


@actor(minutes=30)  # a hand-over copies the volumes
def environment_operation(run: Run, operation: str, container_id: str, params: dict[str, Any]) -> None:
    """One environment operation; the worker checks the owner and the template's body again, with the role the panel
    verified and signed."""
    if run.job.get('kind') != f'environment.{operation}':
        run.reporter.publish(JobStatus.FAILED, f'refused: a {run.job.get("kind")} job cannot run {operation!r}')
        return
    role = str(run.job.get('role') or '')  # signed by the panel (core/jobs/seal.py)
    environments.environment_operation(
        run.endpoint, run.reporter, operation, container_id, params, role, run.own_protection, run.context.locks
    )
