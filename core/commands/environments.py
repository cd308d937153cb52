"""Flow 2 for dev environments: create one from a template, delete it (keeping its home or not), hand it to someone
else, stop it for idleness (the system's job). Start, stop and restart are the ordinary container actions, which check
the container's owner already; starting an environment (``Commands.container_action``) passes the owner's quota here.

A mixin of `Commands` (core/commands/dispatch.py), like :class:`core.commands.images.ImageCommands`. Every command
checks the permission on the environment's scope first (a create's scope is the requester's own: what it makes is
theirs), and every refusal is audited. A create or a start is checked against the owner's quota
(core/environments/quotas.py) with the environments of the live state, and the limits are signed into the job: the
actor (tasks/environments.py, tasks/containers.py) checks them again on the engine, and the template's body and the
owner, with the role the panel signed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from nicegui import run

from core.commands.base import CommandBase
from core.container_actions import ContainerAction
from core.environments.environment import (
    IDLE_STOP_KIND,
    CreateRequest,
    Environment,
    check_name,
    environments,
    owned,
    usable_by,
)
from core.environments.quotas import QUOTA_PARAM, Held, Limits, Quota, QuotaRules
from core.environments.templates import ENVIRONMENT_LABEL, TEMPLATE_LABEL, Template, Templates
from core.errors import CommandError
from core.jobs.store import Job
from core.permissions import ANYWHERE, LOCAL_ENDPOINT, OWNER_LABEL, Forbidden, Identity, Permission, Scope, require
from core.state.containers import ContainerRow

SYSTEM = Identity(username='(system)', role='admin', subject='(system)')  # who asks for idle stops
STARTS = (ContainerAction.START, ContainerAction.RESTART)
IN_USE = ('running', 'paused', 'restarting')  # what a quota counts as running (the daemon's State.Running)


class EnvironmentCommands(CommandBase):
    """The environment commands; ``Commands`` provides the templates."""

    templates: Templates | None
    quotas: QuotaRules | None
    owners: Callable[[str], Identity | None]  # an owner id → the account's identity (role, groups), if known

    async def create_environment(self, identity: Identity | None, template_name: str, name: str) -> Job:
        """Queues a new environment called ``name`` from the template ``template_name``, owned by ``identity``: the
        template must be one they may use and its body one an operator could create; the name must be free for them."""
        asked = {'template': template_name, 'name': name}
        identity = self._guard(identity, Permission.ENVIRONMENT_CREATE, 'create environments', 'create', name, asked)
        scope = Scope(owner=identity.owner_id)
        try:
            name = check_name(name)
        except ValueError as error:
            raise CommandError(str(error)) from None
        template = await self._template(template_name)
        if not usable_by(template, identity):
            self._refuse(
                identity,
                'create',
                name,
                asked,
                f'{identity.username} may not use the template {template.name}: it is for the groups '
                f'{", ".join(template.groups)}',
            )
        self._check_body(identity, template, 'create', name, asked)
        if owned(self.state.containers.values(), identity.owner_id, name) is not None:
            raise CommandError(f'you already have an environment named {name}')
        request = CreateRequest(name=name, owner=identity.owner_id, username=identity.username, template=template)
        container = request.names.container
        if self.state.find(container, LOCAL_ENDPOINT) is not None:
            raise CommandError(f'a container named {container} already exists: choose another name')
        quota = await self._quota(identity)
        new = Held(name=name, running=True, cpus=template.cpus, memory=template.memory)
        refusal = quota.create_refusal(self._held(identity.owner_id), new)
        if refusal:
            self._refuse(identity, 'create', name, asked, refusal)
        return await self.dispatch(
            identity,
            permission=Permission.ENVIRONMENT_CREATE,
            what='create environments',
            kind='environment.create',
            target=container,
            target_name=container,
            params={'request': request.to_dict(), 'requester': identity.owner_id, QUOTA_PARAM: quota.to_dict()},
            audit_params=asked,
            arguments=('create', ''),
            scope=scope,
        )

    async def delete_environment(self, identity: Identity | None, container: str, *, keep_home: bool = True) -> Job:
        """Queues the removal of an environment's container and, unless ``keep_home``, of its volumes."""
        environment = self._environment(
            identity, Permission.ENVIRONMENT_DELETE, 'delete environments', 'environment.delete', container
        )
        row = environment.row
        return await self.dispatch(
            identity,
            permission=Permission.ENVIRONMENT_DELETE,
            what='delete environments',
            kind='environment.delete',
            target=row.id,
            target_name=row.name,
            params={'keep_home': bool(keep_home), 'requester': identity.owner_id if identity else ''},
            arguments=('delete', row.id),
            scope=row.scope,
        )

    async def assign_environment(self, identity: Identity | None, container: str, *, owner: str, username: str) -> Job:
        """Queues the hand-over of an environment to the account ``username`` (stable id ``owner``): it is made again
        from its template with the new owner, its volumes copied into ones that carry the new owner."""
        environment = self._environment(
            identity, Permission.ENVIRONMENT_ASSIGN, 'hand environments over', 'environment.assign', container
        )
        row = environment.row
        asked = {'to': username}
        if not owner or owner == environment.owner:
            raise CommandError(f'{row.name} belongs to {username} already')
        if owned(self.state.containers.values(), owner, environment.name) is not None:
            raise CommandError(f'{username} already has an environment named {environment.name}')
        template = await self._template(row.labels.get(TEMPLATE_LABEL, ''))
        assert identity is not None
        self._check_body(identity, template, 'assign', row.name, asked)
        quota = await self._quota(self.owners(owner), owner)  # it joins the new owner's environments
        refusal = quota.take_refusal(self._held(owner), held(row))
        if refusal:
            self._refuse(identity, 'assign', row.name, asked, f'{username} cannot take it: {refusal}')
        return await self.dispatch(
            identity,
            permission=Permission.ENVIRONMENT_ASSIGN,
            what='hand environments over',
            kind='environment.assign',
            target=row.id,
            target_name=row.name,
            params={'owner': owner, 'username': username, 'template': asdict(template), QUOTA_PARAM: quota.to_dict()},
            audit_params=asked,
            arguments=('assign', row.id),
            scope=row.scope,
        )

    async def environment_start(
        self, identity: Identity | None, action: ContainerAction, row: ContainerRow, permission: Permission, what: str
    ) -> dict[str, Any]:
        """For a start (or restart) of an environment's container: the signed limits its job carries, once the
        requester may start it and, when it is not running yet, its owner's quota allows it (refusals audited).
        Nothing for any other container or action."""
        if action not in STARTS or not row.labels.get(ENVIRONMENT_LABEL):
            return {}
        identity = self._require(identity, permission, what, action.kind, row.name, scope=row.scope)
        owner = row.labels.get(OWNER_LABEL, '')
        quota = await self._quota(identity if identity.owner_id == owner else self.owners(owner), owner)
        if row.state not in IN_USE:
            refusal = quota.start_refusal(self._held(owner), held(row))
            if refusal:
                refused = Forbidden(refusal)
                self._refused(identity, action.kind, row.name, {}, refused, endpoint=row.endpoint)
                raise refused
        return {QUOTA_PARAM: quota.to_dict()}

    async def idle_stop(self, row: ContainerRow, minutes: int) -> Job:
        """Stops an environment nobody used for ``minutes`` (its idle timeout): a job of the system's, audited, that
        belongs to the environment's owner (their job centre and notifications show it)."""
        return await self.dispatch(
            SYSTEM,
            permission=Permission.CONTAINER_LIFECYCLE,
            what='stop idle environments',
            kind=IDLE_STOP_KIND,
            target=row.id,
            target_name=row.name,
            params={'idle_minutes': minutes},
            arguments=('idle_stop', row.id),
            scope=row.scope,
        )

    async def _quota(self, who: Identity | None, owner: str = '') -> Quota:
        """``who``'s quota (an unknown owner, such as a deleted account, is not limited)."""
        if who is None:
            return Quota(owner=owner, username=owner.removeprefix('local:') or 'nobody', limits=Limits())
        if self.quotas is None:
            return Quota(owner=who.owner_id, username=who.username, limits=Limits())
        quota = await run.io_bound(
            self.quotas.quota, owner=who.owner_id, username=who.username, role=who.role, groups=who.groups
        )
        if quota is None:  # the app is stopping
            raise CommandError('the panel is stopping')
        return quota

    def _held(self, owner: str) -> list[Held]:
        """``owner``'s environments as the live state has them."""
        return [held(env.row) for env in environments(self.state.containers.values()) if env.owner == owner]

    def _environment(
        self, identity: Identity | None, permission: Permission, what: str, kind: str, container: str
    ) -> Environment:
        """The environment of the container named (or with the id) ``container``; a role that holds ``permission`` only
        on its own things learns nothing of anybody else's (the dispatch checks, and audits, the owner)."""
        row = self.state.find(container, LOCAL_ENDPOINT)
        environment = Environment.of(row) if row is not None else None
        try:
            require(identity, permission, what, None if environment is None else environment.row.scope)
        except Forbidden as refusal:
            target = environment.row.name if environment else container
            self._refused(identity, kind, target, {}, refusal, endpoint=row.endpoint if row else ANYWHERE.endpoint)
            raise
        if environment is None:
            raise CommandError(f'there is no environment {container}')
        return environment

    async def _template(self, name: str) -> Template:
        template = await run.io_bound(self.templates.get, name) if self.templates is not None and name else None
        if template is None:
            raise CommandError(f'there is no template named {name or "(none)"}')
        return template

    def _check_body(
        self, identity: Identity, template: Template, operation: str, target: str, asked: dict[str, Any]
    ) -> None:
        refused = template.refusals()
        if refused:
            self._refuse(
                identity, operation, target, asked, f'the template {template.name} is refused: {"; ".join(refused)}'
            )

    def _guard(
        self,
        identity: Identity | None,
        permission: Permission,
        what: str,
        operation: str,
        target: str,
        asked: dict[str, Any],
    ) -> Identity:
        """``permission`` on the requester's own scope (a create makes something theirs); a refusal is audited."""
        own = Scope(owner=identity.owner_id) if identity is not None else ANYWHERE
        return self._require(identity, permission, what, f'environment.{operation}', target, asked, scope=own)

    def _refuse(self, identity: Identity, operation: str, target: str, asked: dict[str, Any], sentence: str) -> None:
        refusal = Forbidden(sentence)
        self._refused(identity, f'environment.{operation}', target, asked, refusal)
        raise refusal


def held(row: ContainerRow) -> Held:
    """An environment's container as a quota counts it."""
    name = row.labels.get(ENVIRONMENT_LABEL) or row.name
    return Held(name=name, running=row.state in IN_USE, cpus=row.cpus, memory=row.memory_limit)
