"""Container lifecycle actors."""

from __future__ import annotations

from typing import Any

from core.operations import containers

from .context import Run, actor


@actor(minutes=5)
def container_action(run: Run, action: str, container_id: str, params: dict[str, Any]) -> None:
    """Start, stop, restart, pause, resume, kill or remove one container, reporting through the bus."""
    containers.container_action(run.endpoint, run.reporter, action, container_id, params, run.context.locks)
