"""Lifecycle actions on one container, as a worker runs them. Starting a dev environment (start, or restart of a
stopped one) passes the owner's quota first (core/operations/environment_quota.py)."""

from __future__ import annotations

from contextlib import closing
from typing import Any

import docker

from core.container_actions import parse_action
from core.docker.client import describe_error
from core.docker.endpoints import Endpoint
from core.jobs.locks import LockBusy, Locks
from core.jobs.store import JobStatus
from core.operations.environment_quota import QuotaRefused, checked_start
from core.operations.report import JobReporter


def run_container_action(
    client: docker.DockerClient,
    action: str,
    container_id: str,
    params: dict[str, Any] | None = None,
    *,
    locks: Locks,
) -> str:
    """Runs one lifecycle action; returns a short success sentence. Raises docker errors as they come, and
    :class:`QuotaRefused` for an environment beyond its owner's quota."""
    params = params or {}
    known = parse_action(action)
    if known is None:
        raise ValueError(f'unknown action {action!r}')
    api = client.api
    timeout = int(params.get('timeout', 10))
    if action == 'start':
        checked_start(api, container_id, params, locks, lambda: api.start(container_id))
    elif action == 'stop':
        api.stop(container_id, timeout=timeout)
    elif action == 'restart':
        checked_start(api, container_id, params, locks, lambda: api.restart(container_id, timeout=timeout))
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
    endpoint: Endpoint,
    reporter: JobReporter,
    action: str,
    container_id: str,
    params: dict[str, Any],
    locks: Locks,
) -> None:
    """The job: one lifecycle action on ``endpoint``, reported as succeeded or failed with the daemon's words (or the
    quota's sentence). ``locks`` are the workers' shared ones (the quota check of an environment's start)."""
    try:
        with closing(endpoint.connect()) as client:
            done = run_container_action(client, action, container_id, params, locks=locks)
    except (QuotaRefused, LockBusy) as refusal:
        reporter.publish(JobStatus.FAILED, f'refused: {refusal}')
        return
    except Exception as error:  # every failure becomes a failed job with a sentence
        reporter.publish(JobStatus.FAILED, describe_error(error))
        return
    reporter.publish(JobStatus.SUCCEEDED, done)
