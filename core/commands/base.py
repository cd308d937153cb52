"""What every command mixin shares: the one ``dispatch`` (guard on the resource's scope, audit entry, queued job,
actor send) and the audited permission check made before a command looks at anything else.

``Commands`` (core/commands/dispatch.py) puts the mixins for each resource together, as docker-py splits its API
client; each mixin inherits this base, so it can call ``dispatch``, ``_require`` and ``_refused`` directly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from nicegui import run

from core.docker.endpoints import Endpoints, UnknownEndpoint
from core.errors import CommandError
from core.jobs.seal import JobSigner
from core.jobs.store import Job, JobStatus, JobStore, JobUpdate, new_job_id
from core.permissions import ANYWHERE, Forbidden, Identity, Permission, Scope, require
from core.protection import Protection
from core.state.model import DockerState
from core.storage.audit import AuditLog

log = logging.getLogger(__name__)
Send = Callable[..., object]  # an actor's send: queues the job, returns the message
# keeps a job's send for later (the sandbox run line)
Hold = Callable[['Job', Callable[[], Coroutine[Any, Any, None]]], None]


class CommandBase:
    """The stores and services a command needs (set by ``Commands.__init__``) and the shared steps."""

    state: DockerState
    jobs: JobStore
    audit: AuditLog
    senders: dict[str, Send]
    protection: Protection
    endpoints: Endpoints | None
    signer: JobSigner | None

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
        hold: Hold | None = None,
    ) -> Job:
        """The one way a job starts: permission check on the resource's scope (audited when refused), queued job,
        audit entry, then the send of the actor for ``kind`` (a job's kind is its audit action).

        ``arguments`` go to the actor after the job payload; ``audit_params`` is what the audit log keeps
        (never credentials). ``scope`` is the resource's: its endpoint is the engine the job runs against (signed with
        the job), its owner what an own-resources-only grant compares. A broker that cannot be reached makes the job
        fail with a sentence. With ``hold``, the job is queued, audited and signed now, but its send is handed to
        ``hold``, which awaits it when the job may start (the sandbox's run line).
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
            'role': identity.role_on(endpoint),  # the role on the job's endpoint
            'endpoint': endpoint,
            'owner': scope.owner,
        }
        if self.signer is not None:
            payload = self.signer.sign(payload, arguments, params)

        async def send() -> None:
            try:
                await run.io_bound(self.senders[kind], payload, *arguments, params)
            except Exception as error:  # the broker is down: the job fails with a sentence, the panel keeps serving
                log.warning('could not queue %s: %s', kind, error)
                job = self.jobs.jobs.get(update.job_id)
                if job is not None:
                    self.jobs.apply(job.failed(f'could not queue the job: job queue unreachable ({error})'))

        job = self.jobs.jobs[update.job_id]
        if hold is not None:
            hold(job, send)
            return job
        await send()
        return self.jobs.jobs[update.job_id]

    def _require(
        self,
        identity: Identity | None,
        permission: Permission,
        what: str,
        kind: str,
        target_name: str,
        params: dict[str, Any] | None = None,
        *,
        scope: Scope = ANYWHERE,
    ) -> Identity:
        """The permission on ``scope`` before anything else is looked at; a refusal is audited like dispatch audits
        it, then raised."""
        try:
            return require(identity, permission, what, scope)
        except Forbidden as refusal:
            self._refused(identity, kind, target_name, params or {}, refusal, endpoint=scope.endpoint)
            raise

    def _refused(
        self,
        identity: Identity | None,
        kind: str,
        target_name: str,
        params: dict[str, Any],
        refusal: Forbidden,
        *,
        endpoint: str = '',
    ) -> None:
        self.audit.record(
            username=identity.username if identity else '(anonymous)',
            role=identity.role if identity else '',
            action=kind,
            target=target_name,
            params=params,
            result=f'refused: {refusal}',
            address=identity.address if identity else '',
            endpoint=endpoint,
        )
