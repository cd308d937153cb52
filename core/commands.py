"""Flow 2 on the panel side: guard, audit entry, queued job, dispatch to an actor. Tables change through flow 1."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from nicegui import run

from auth.guard import Forbidden, Identity, require

from .audit import AuditLog
from .docker_access import ACTION_VERBS, ACTIONS
from .jobs import Job, JobStore, JobUpdate, new_job_id
from .state import DockerState

log = logging.getLogger(__name__)
Enqueue = Callable[[dict[str, Any], str, str, dict[str, Any]], None]


class CommandError(Exception):
    """A command that cannot be queued; the message is a sentence for the user."""


class Commands:
    def __init__(self, *, state: DockerState, jobs: JobStore, audit: AuditLog, enqueue_container_action: Enqueue) -> None:
        self.state = state
        self.jobs = jobs
        self.audit = audit
        self.enqueue_container_action = enqueue_container_action

    async def container_action(self, identity: Identity | None, action: str, container_id: str,
                               params: dict[str, Any] | None = None) -> Job:
        """Authorizes, audits and queues one lifecycle action; returns the queued job."""
        params = {key: value for key, value in (params or {}).items() if key in ('timeout', 'signal', 'volumes', 'force')}
        if action not in ACTIONS:
            raise CommandError(f'unknown action {action!r}')
        verb = ACTION_VERBS[action].lower()
        row = self.state.containers.get(container_id) or self.state.find(container_id)
        target_name = row.name if row else container_id[:12]
        try:
            require(identity, 'operator', f'{verb} containers')
        except Forbidden as refusal:
            self.audit.record(username=identity.username if identity else '(anonymous)',
                              role=identity.role if identity else '', action=f'container.{action}',
                              target=target_name, params=params, result=f'refused: {refusal}',
                              address=identity.address if identity else '')
            raise
        assert identity is not None
        if row is None:
            raise CommandError(f'container {target_name} no longer exists')
        update = JobUpdate(job_id=new_job_id(), status='queued', kind=f'container.{action}', target=row.id,
                           target_name=row.name, requested_by=identity.username)
        self.jobs.apply(update)
        self.audit.record(username=identity.username, role=identity.role, action=f'container.{action}',
                          target=row.name, params=params, result=f'queued job {update.job_id}', address=identity.address)
        job_payload = {'job_id': update.job_id, 'kind': update.kind, 'target': row.id, 'target_name': row.name,
                       'requested_by': identity.username}
        try:
            await run.io_bound(self.enqueue_container_action, job_payload, action, row.id, params)
        except Exception as error:  # the broker is down: the job fails with a sentence, the panel keeps serving
            log.warning('could not queue %s: %s', update.kind, error)
            self.jobs.apply(JobUpdate(job_id=update.job_id, status='failed', kind=update.kind, target=row.id,
                                      target_name=row.name, requested_by=identity.username,
                                      message=f'could not queue the job: job queue unreachable ({error})'))
        return self.jobs.jobs[update.job_id]
