"""The volume actor: create, remove (forced: with the containers using it), prune the confirmed list."""

from __future__ import annotations

from typing import Any

from core.operations import volumes

from .context import Run, actor


@actor(minutes=10)
def volume_operation(run: Run, operation: str, name: str, params: dict[str, Any]) -> None:
    """Creates or removes one volume, or removes the confirmed list of a prune, after checking driver options and
    Berth's protected volumes again against the role the panel verified and signed."""
    role = str(run.job.get('role') or '')  # signed by the panel (core/jobs/seal.py)
    volumes.volume_operation(run.endpoint, run.reporter, operation, name, params, role, run.own_protection)
