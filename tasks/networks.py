"""The network actor: create (bridge only), remove, prune, connect, disconnect."""

from __future__ import annotations

from typing import Any

from core.jobs.store import JobStatus
from core.operations import networks

from .context import Run, actor


@actor(minutes=5)
def network_operation(run: Run, operation: str, network_id: str, params: dict[str, Any]) -> None:
    """One network operation; the worker refuses the engine's own networks and any driver but bridge again, with
    the role the panel verified and signed (for Berth's own labels)."""
    if run.job.get('kind') != f'network.{operation}':
        run.reporter.publish(JobStatus.FAILED, f'refused: a {run.job.get("kind")} job cannot run {operation!r}')
        return
    role = str(run.job.get('role') or '')  # signed by the panel (core/jobs/seal.py)
    networks.network_operation(run.endpoint, run.reporter, operation, network_id, params, role)
