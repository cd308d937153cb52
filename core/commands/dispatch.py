"""Flow 2 on the panel side: guard, audit entry, queued job, dispatch to an actor. Tables change through flow 1."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.commands.base import Send
from core.commands.environments import EnvironmentCommands
from core.commands.images import ImageCommands
from core.commands.networks import NetworkCommands
from core.commands.sandbox import SandboxCommands
from core.commands.stacks import StackCommands
from core.commands.updates import UpdateCommands
from core.commands.volumes import VolumeCommands
from core.container_actions import parse_action
from core.docker.endpoints import Endpoints
from core.environments.quotas import QuotaRules
from core.environments.templates import Templates
from core.errors import CommandError
from core.jobs.cancel import CancelFlags
from core.jobs.seal import JobSigner
from core.jobs.store import Job, JobStore
from core.permissions import Identity, Permission, require
from core.protection import Protection
from core.sandbox.service import Sandbox
from core.stacks.store import Stacks
from core.state.model import DockerState
from core.storage.audit import AuditLog
from core.storage.credentials import RegistryCredentials


class Commands(
    ImageCommands,
    VolumeCommands,
    NetworkCommands,
    EnvironmentCommands,
    SandboxCommands,
    UpdateCommands,
    StackCommands,
):
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
        templates: Templates | None = None,
        quotas: QuotaRules | None = None,
        owners: Callable[[str], Identity | None] | None = None,
        sandbox: Sandbox | None = None,
        stacks: Stacks | None = None,
    ) -> None:
        self.state = state
        self.stacks = stacks  # compose stacks' files and versions (core/stacks/store.py)
        self.sandbox = sandbox  # runtimes, runs and the line they wait in (core/sandbox/service.py)
        self.templates = templates  # environment templates (core/environments/templates.py)
        self.quotas = quotas  # the quota rules of environments (core/environments/quotas.py)
        self.owners = owners or (lambda owner: None)  # an owner id → that account's identity, for its quota
        self.signer = signer  # signs each job, so a worker runs only what this panel checked (core/job_seal.py)
        self.endpoints = endpoints  # the engines, for the few reads a command needs (off the loop)
        self.protection = protection or Protection()  # the panel's own containers, filled in at start
        self.jobs = jobs
        self.audit = audit
        self.senders = senders  # kind of job ('container.stop', 'image.pull', ...) → the actor's send
        self.credentials = credentials  # registry credentials users chose to save (image_commands.py)
        self.cancel = cancel  # cancellation requests the actors look at

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
        params.update(await self.environment_start(identity, known, row, permission, what))
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
