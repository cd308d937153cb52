"""Flow 2 on the panel side: guard, audit entry, queued job, dispatch to an actor. Tables change through flow 1."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from nicegui import run

from core.commands.images import ImageCommands
from core.commands.networks import NetworkCommands
from core.commands.volumes import VolumeCommands
from core.container_actions import parse_action
from core.docker.endpoints import Endpoints, UnknownEndpoint
from core.errors import CommandError
from core.jobs.cancel import CancelFlags
from core.jobs.seal import JobSigner
from core.jobs.store import Job, JobStatus, JobStore, JobUpdate, new_job_id
from core.permissions import ANYWHERE, Forbidden, Identity, Permission, Scope, require
from core.protection import Protection
from core.state.model import DockerState
from core.storage.audit import AuditLog
from core.storage.credentials import RegistryCredentials

log = logging.getLogger(__name__)
Send = Callable[..., object]  # an actor's send: queues the job, returns the message


class Commands(ImageCommands, VolumeCommands, NetworkCommands):
    def __init__(
        self,
        *,
        state: DockerState,
        jobs: JobStore,
        audit: AuditLog,
        senders: dict[str, Send],
        credentials: RegistryCredentials | None = None,
        cancel: CancelFlags | None = None,
        protection: Protection | None = None,
        endpoints: Endpoints | None = None,
        signer: JobSigner | None = None,
    ) -> None:
        self.state = state
        self.signer = signer  # signs each job, so a worker runs only what this panel checked (core/job_seal.py)
        self.endpoints = endpoints  # the engines, for the few reads a command needs (off the loop)
        self.protection = protection or Protection()  # the panel's own containers, filled in at start
        self.jobs = jobs
        self.audit = audit
        self.senders = senders  # kind of job ('container.stop', 'image.pull', ...) → the actor's send
        self.credentials = credentials  # registry credentials users chose to save (image_commands.py)
        self.cancel = cancel  # cancellation requests the actors look at

    async def dispatch(
        self,
        identity: Identity | None,
        *,
        permission: Permission,
        what: str,
        kind: str,
        target: str,
        target_name: str,
        params: dict[str, Any],
        audit_params: dict[str, Any] | None = None,
        arguments: tuple[Any, ...] = (),
        scope: Scope = ANYWHERE,
    ) -> Job:
        """The one way a job starts: permission check on the resource's scope (audited when refused), queued job,
        audit entry, then the send of the actor for ``kind`` (a job's kind is its audit action).

        ``arguments`` go to the actor after the job payload; ``audit_params`` is what the audit log keeps
        (never credentials). ``scope`` is the resource's: its endpoint is the engine the job runs against (signed with
        the job), its owner what an own-resources-only grant compares. A broker that cannot be reached makes the job
        fail with a sentence.
        """
        try:
            require(identity, permission, what, scope)
        except Forbidden as refusal:
            self.audit.record(
                username=identity.username if identity else '(anonymous)',
                role=identity.role if identity else '',
                action=kind,
                target=target_name,
                params=audit_params if audit_params is not None else params,
                result=f'refused: {refusal}',
                address=identity.address if identity else '',
                endpoint=scope.endpoint,
            )
            raise
        assert identity is not None
        endpoint = scope.endpoint
        if self.endpoints is not None:
            try:
                self.endpoints.get(endpoint)
            except UnknownEndpoint as error:
                raise CommandError(str(error)) from None
        update = JobUpdate(
            job_id=new_job_id(),
            status=JobStatus.QUEUED,
            kind=kind,
            target=target,
            target_name=target_name,
            requested_by=identity.username,
            endpoint=endpoint,
            owner=scope.owner,
        )
        self.jobs.apply(update)
        self.audit.record(
            username=identity.username,
            role=identity.role,
            action=kind,
            target=target_name,
            params=audit_params if audit_params is not None else params,
            result=f'queued job {update.job_id}',
            address=identity.address,
            endpoint=endpoint,
        )
        # the role checked here travels with the job, signed, so an actor can re-check body-level policy against it
        payload: dict[str, Any] = {
            'job_id': update.job_id,
            'kind': kind,
            'target': target,
            'target_name': target_name,
            'requested_by': identity.username,
            'role': identity.role,
            'endpoint': endpoint,
            'owner': scope.owner,
        }
        if self.signer is not None:
            payload = self.signer.sign(payload, arguments, params)
        try:
            await run.io_bound(self.senders[kind], payload, *arguments, params)
        except Exception as error:  # the broker is down: the job fails with a sentence, the panel keeps serving
            log.warning('could not queue %s: %s', kind, error)
            job = self.jobs.jobs[update.job_id]
            self.jobs.apply(job.failed(f'could not queue the job: job queue unreachable ({error})'))
        return self.jobs.jobs[update.job_id]

    async def container_action(
        self, identity: Identity | None, action: str, container_id: str, params: dict[str, Any] | None = None
    ) -> Job:
        """Authorizes, audits and queues one lifecycle action; returns the queued job."""
        allowed = ('timeout', 'signal', 'volumes', 'force')
        params = {key: value for key, value in (params or {}).items() if key in allowed}
        known = parse_action(action)
        if known is None:
            raise CommandError(f'unknown action {action!r}')
        row = self.state.containers.get(container_id) or self.state.find(container_id)
        target_name = row.name if row else container_id[:12]
        what = f'{known.spec.label.lower()} containers'
        if row is None:
            require(identity, Permission.CONTAINER_LIFECYCLE, what)
            raise CommandError(f'container {target_name} no longer exists')
        # Berth's own containers (panel, worker, Redis, anything labelled berth.protected) are the admins' alone
        permission = Permission.CONTAINER_LIFECYCLE
        if self.protection.container_is_protected(row.id, row.labels):
            permission = Permission.BERTH_INTERNALS
            what = f'{what[:1].lower()}{what[1:]} that belong to Berth itself'
        return await self.dispatch(
            identity,
            permission=permission,
            what=what,
            kind=known.kind,
            target=row.id,
            target_name=row.name,
            params=params,
            arguments=(action, row.id),
            scope=row.scope,
        )
