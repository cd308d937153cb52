"""Lifecycle actions on one container, as a worker runs them."""

from __future__ import annotations

from contextlib import closing
from typing import Any

import docker

from core.container_actions import parse_action
from core.docker.client import describe_error
from core.docker.endpoints import Endpoint
from core.jobs.store import JobStatus
from core.operations.report import JobReporter


def run_container_action(
    client: docker.DockerClient, action: str, container_id: str, params: dict[str, Any] | None = None
) -> str:
    """Runs one lifecycle action; returns a short success sentence. Raises docker errors as they come."""
    params = params or {}
    known = parse_action(action)
    if known is None:
        raise ValueError(f'unknown action {action!r}')
    api = client.api
    if action == 'start':
        api.start(container_id)
    elif action == 'stop':
        api.stop(container_id, timeout=int(params.get('timeout', 10)))
    elif action == 'restart':
        api.restart(container_id, timeout=int(params.get('timeout', 10)))
    elif action == 'pause':
        api.pause(container_id)
    elif action == 'unpause':
        api.unpause(container_id)
    elif action == 'kill':
        api.kill(container_id, signal=str(params.get('signal', 'SIGKILL')))
    elif action == 'remove':
        api.remove_container(container_id, v=bool(params.get('volumes', False)), force=bool(params.get('force', False)))
    return known.spec.past


def container_action(
    endpoint: Endpoint, reporter: JobReporter, action: str, container_id: str, params: dict[str, Any]
) -> None:
    """The job: one lifecycle action on ``endpoint``, reported as succeeded or failed with the daemon's words."""
    try:
        with closing(endpoint.connect()) as client:
            done = run_container_action(client, action, container_id, params)
    except Exception as error:  # every failure becomes a failed job with a sentence
        reporter.publish(JobStatus.FAILED, describe_error(error))
        return
    reporter.publish(JobStatus.SUCCEEDED, done)
