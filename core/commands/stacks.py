"""Flow 2 for compose stacks: validate, deploy (a version each time), roll back, adopt, and the lifecycle actions.

A mixin of `Commands` (core/commands/dispatch.py), like :class:`core.commands.images.ImageCommands`. A deploy is
checked here before anything is queued — the stack's name, compose's own ``config`` (problems with their lines), the
body policy on the normalised file with the requester's role — then its files are saved as a version and travel
signed in the job with the normalised file compose printed, which is what the actor checks again (without running
compose) and runs. Writing and adopting files is the panel's own work, audited.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker

from core.commands.base import CommandBase
from core.docker.client import describe_error
from core.docker.endpoint_spec import EndpointKind
from core.errors import CommandError, clip
from core.jobs.store import Job
from core.permissions import LOCAL_ENDPOINT, Forbidden, Identity, Permission, Scope
from core.stacks import policy
from core.stacks.actions import ROLLBACK_KIND, StackAction
from core.stacks.adopt import read_adoptable
from core.stacks.compose import ComposeMissing, default_compose
from core.stacks.config import NORMALISED, Checked, normalise
from core.stacks.listing import StackRow, stack_rows
from core.stacks.problems import Problem
from core.stacks.registry_auth import image_registries
from core.stacks.store import StackError, StackFiles, Stacks, Version, check_name
from core.storage.credentials import RegistryCredentials


class StackInvalid(CommandError):
    """The files do not pass compose config; ``problems`` carry their lines."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__('; '.join(map(str, problems)))
        self.problems = problems


@dataclass(kw_only=True, slots=True, frozen=True)
class Validation:
    """What Validate shows: compose's problems, and what the body policy would refuse of the requester."""

    problems: list[Problem]
    refusals: list[str]
    services: list[str]


class StackCommands(CommandBase):
    """The stack commands; ``Commands`` provides the store (``stacks``)."""

    stacks: Stacks | None
    credentials: RegistryCredentials | None

    async def validate_stack(
        self, identity: Identity | None, name: str, files: StackFiles, *, endpoint: str = LOCAL_ENDPOINT
    ) -> Validation:
        """Runs compose config on ``files`` (never deploying): its problems with their lines and the policy's
        refusals for the requester's role on the stack's host (``endpoint`` for a new stack)."""
        store = self._stacks()
        where = await self._stack_endpoint(store, name, endpoint)
        identity = self._require(
            identity, Permission.STACK_DEPLOY, 'write stacks', 'stack.validate', name, scope=Scope(endpoint=where)
        )
        checked = await self._check_stack(store, identity, name, files, where)
        refusals = await self._stack_refusals(checked.config, identity, where) if checked.ok else []
        return Validation(problems=checked.problems, refusals=refusals, services=checked.services)

    async def deploy_stack(
        self,
        identity: Identity | None,
        name: str,
        files: StackFiles,
        *,
        message: str = '',
        kind: str = '',
        endpoint: str = LOCAL_ENDPOINT,
    ) -> Job:
        """Checks ``files``, saves them as the stack's next version (who, when, ``message``) and queues the deploy on
        the stack's host (a new stack's is ``endpoint``; a stack of another host is refused with a sentence)."""
        kind = kind or StackAction.DEPLOY.kind
        asked: dict[str, Any] = {'message': message} if message else {}
        store = self._stacks()
        where = await self._stack_endpoint(store, name, endpoint)
        identity = self._require(
            identity, Permission.STACK_DEPLOY, 'deploy stacks', kind, name, asked, scope=Scope(endpoint=where)
        )
        checked = await self._check_stack(store, identity, name, files, where)
        if not checked.ok:
            raise StackInvalid(checked.problems)
        refused = await self._stack_refusals(checked.config, identity, where)
        if refused:
            self._refuse_stack(identity, kind, name, asked, f'the stack {name} is refused: {"; ".join(refused)}', where)

        def save() -> Version:
            store.claim(name, where)
            return store.save_version(name, files, author=identity.username, message=message)

        try:
            version = await asyncio.to_thread(save)
        except (StackError, OSError) as error:  # a full disk: the system's words, without errno and path
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            raise CommandError(f'could not save {name}: {reason}') from None
        asked.update(version=version.number, services=checked.services)
        return await self._dispatch_action(identity, StackAction.DEPLOY, name, checked, files, asked, where, kind=kind)

    async def rollback_stack(self, identity: Identity | None, name: str, number: int) -> Job:
        """Deploys version ``number`` again (as a new version saying so), on the stack's host."""
        store = self._stacks()
        self._stack_name(name)
        where = await asyncio.to_thread(store.endpoint, name)
        self._require(
            identity,
            Permission.STACK_DEPLOY,
            'roll stacks back',
            'stack.rollback',
            name,
            {'to': number},
            scope=Scope(endpoint=where),
        )
        try:
            files = await asyncio.to_thread(store.version, name, number)
        except StackError as error:
            raise CommandError(str(error)) from None
        return await self.deploy_stack(
            identity, name, files, message=f'roll back to v{number}', kind=ROLLBACK_KIND, endpoint=where
        )

    async def stack_action(
        self,
        identity: Identity | None,
        name: str,
        action: StackAction,
        *,
        remove_volumes: bool = False,
        endpoint: str = LOCAL_ENDPOINT,
    ) -> Job:
        """Stop, start, restart or take down (any stack the engine of ``endpoint`` has); pull or update (a stack with
        files here). A stack of Berth's runs on its own host."""
        spec = action.spec
        asked: dict[str, Any] = {'remove_volumes': True} if action == StackAction.DOWN and remove_volumes else {}
        store = self._stacks()
        self._stack_name(name)
        where = await self._stack_endpoint(store, name, endpoint)
        identity = self._require(
            identity,
            spec.permission,
            f'{spec.label.lower()} stacks',
            action.kind,
            name,
            asked,
            scope=Scope(endpoint=where),
        )
        if action == StackAction.DEPLOY:
            raise CommandError('a deploy carries its files: use Deploy on the stack page')
        files: StackFiles | None = None
        checked: Checked | None = None
        if spec.files:
            if not await asyncio.to_thread(store.exists, name):
                raise CommandError(f'{name} has no compose file in Berth: adopt it first')
            files = await asyncio.to_thread(store.read, name)
            checked = await self._check_stack(store, identity, name, files, where)
            if not checked.ok:
                raise StackInvalid(checked.problems)
            refused = await self._stack_refusals(checked.config, identity, where) if spec.creates else []
            if refused:
                self._refuse_stack(
                    identity, action.kind, name, asked, f'the stack {name} is refused: {"; ".join(refused)}', where
                )
        elif not self._stack_row(name, where) and not await asyncio.to_thread(store.exists, name):
            raise CommandError(f'there is no stack named {name}{on_host(where)}')
        return await self._dispatch_action(identity, action, name, checked, files, asked, where)

    async def adopt_stack(self, identity: Identity | None, name: str, *, endpoint: str = LOCAL_ENDPOINT) -> Version:
        """Copies an external stack's compose file (with the .env beside it and the env files it names inside its
        directory: :mod:`core.stacks.adopt`) in, when the panel can read them and the file names the services the
        stack's containers run; saved as its first version, on ``endpoint``. Audited.
        The file is read from this machine: only a stack of an engine on this machine (a socket) is adopted."""
        identity = self._require(
            identity, Permission.STACK_DEPLOY, 'adopt stacks', 'stack.adopt', name, scope=Scope(endpoint=endpoint)
        )
        store = self._stacks()
        row = self._stack_row(name, endpoint)
        if row is None:
            raise CommandError(f'no containers of a stack named {name} are on the engine{on_host(endpoint)}')
        if await asyncio.to_thread(store.exists, name):
            raise CommandError(f'{name} is a stack of Berth already')
        if self.endpoints is not None and self.endpoints.get(endpoint).kind != EndpointKind.SOCKET:
            raise CommandError(
                f'{name} runs on host "{clip(endpoint)}", whose compose file is on that machine, not this one: open '
                f'a new stack named {name} there and paste the file; its deploy takes the running containers over'
            )
        paths = row.config_files
        if len(paths) != 1:
            raise CommandError(
                f'{name} was made from {len(paths)} compose files: adopting copies one'
                if paths
                else f'{name} does not say which compose file made it: only its containers can be managed'
            )
        author = identity.username

        def adopt() -> Version:
            found = read_adoptable(Path(paths[0]), row.services)
            store.claim(name, endpoint)
            for relative, text in found.env_files.items():  # compose reads them from the stack's directory now
                store.write_beside(name, relative, text)
            return store.save_version(name, found.files, author=author, message=f'adopted from {paths[0]}')

        try:
            version = await asyncio.to_thread(adopt)
        except (StackError, OSError) as error:
            refused = CommandError(f'cannot adopt {name}: {error}')
            self._refused(identity, 'stack.adopt', name, {'file': paths[0]}, Forbidden(str(refused)), endpoint=endpoint)
            raise refused from None
        self.audit.record(
            username=identity.username,
            role=identity.role,
            action='stack.adopt',
            target=name,
            params={'file': paths[0], 'version': version.number},
            result='adopted',
            address=identity.address,
            endpoint=row.endpoint,
        )
        return version

    async def reveal_stack_env(self, identity: Identity | None, name: str) -> str:
        """The stack's .env with its secret-looking values, for someone who may deploy the stack. Audited."""
        store = self._stacks()
        self._stack_name(name)
        where = await asyncio.to_thread(store.endpoint, name)
        identity = self._require(
            identity,
            Permission.STACK_DEPLOY,
            'see secret values of stacks',
            'stack.reveal_env',
            name,
            scope=Scope(endpoint=where),
        )
        try:
            files = await asyncio.to_thread(store.read, name)
        except StackError as error:
            raise CommandError(str(error)) from None
        self.audit.record(
            username=identity.username,
            role=identity.role,
            action='stack.reveal_env',
            target=name,
            params={},
            result='revealed',
            address=identity.address,
            endpoint=where,
        )
        return files.env

    def stack_rows(self, managed: dict[str, tuple[list[str], float]], endpoint: str = LOCAL_ENDPOINT) -> list[StackRow]:
        """The stacks of ``endpoint``, Berth's (``managed``: from :meth:`Stacks.overview` of that endpoint, read off
        the loop) and the engine's."""
        return stack_rows(self.state.containers.values(), managed, endpoint)

    async def _dispatch_action(
        self,
        identity: Identity,
        action: StackAction,
        name: str,
        checked: Checked | None,
        files: StackFiles | None,
        asked: dict[str, Any],
        endpoint: str,
        *,
        kind: str = '',
    ) -> Job:
        params: dict[str, Any] = dict(asked)
        audited = dict(asked)  # never the files (a .env holds secrets) nor the credentials
        if files is not None and checked is not None:
            # signed with the job (core/jobs/seal.py): the worker runs exactly the normalised file checked here
            params['files'] = {'compose': files.compose, 'env': files.env, NORMALISED: checked.text}
            registries = image_registries(checked.config)
            credentials = self.credentials
            sealed = await asyncio.to_thread(credentials.sealed_for, registries) if credentials is not None else {}
            if sealed:  # the saved credentials of the registries its images come from, for compose's pulls
                params['credentials'] = sealed
                audited['credentials'] = sorted(sealed)
        return await self.dispatch(
            identity,
            permission=action.spec.permission,
            what=f'{action.spec.label.lower()} stacks',
            kind=kind or action.kind,
            target=name,
            target_name=name,
            params=params,
            audit_params=audited,
            arguments=(name,),
            scope=Scope(endpoint=endpoint),
        )

    async def _check_stack(
        self, store: Stacks, identity: Identity, name: str, files: StackFiles, endpoint: str
    ) -> Checked:
        self._stack_name(name)
        try:
            files.check()
        except StackError as error:
            raise CommandError(str(error)) from None
        refused = policy.path_refusals(files.compose, identity.role_on(endpoint))
        if refused:  # before compose reads any file the compose file names
            self._refuse_stack(
                identity, 'stack.validate', name, {}, f'the stack {name} is refused: {"; ".join(refused)}', endpoint
            )
        try:
            compose = await asyncio.to_thread(default_compose)
        except ComposeMissing as error:
            raise CommandError(str(error)) from None
        return await asyncio.to_thread(normalise, compose, name, files, store.directory(name))

    async def _stack_refusals(self, config: dict[str, Any], identity: Identity, endpoint: str) -> list[str]:
        """The body policy on the normalised file for the requester's role on ``endpoint``, with Berth's protected
        volumes there looked up (off the loop) when a non-admin's services mount named volumes."""
        protected: set[str] = set()
        role = identity.role_on(endpoint)
        named = any(
            isinstance(item, dict) and item.get('type') == 'volume' and item.get('source')
            for service in (config.get('services') or {}).values()
            for item in (service or {}).get('volumes') or []
        )
        if named and not policy.is_admin(role) and self.endpoints is not None:
            endpoints = self.endpoints
            try:
                protected = await asyncio.to_thread(
                    lambda: self.protection.protected_volumes(endpoints.client(endpoint).api)
                )
            except docker.errors.DockerException as error:
                raise CommandError(
                    f"could not check the volumes against Berth's own: {describe_error(error)}"
                ) from None
        return policy.refusals(config, role, protected)

    def _refuse_stack(
        self, identity: Identity, kind: str, name: str, asked: dict[str, Any], sentence: str, endpoint: str
    ) -> None:
        refusal = Forbidden(sentence)
        self._refused(identity, kind, name, asked, refusal, endpoint=endpoint)
        raise refusal

    def _stack_row(self, name: str, endpoint: str) -> StackRow | None:
        rows = stack_rows(self.state.containers.values(), {}, endpoint)
        return next((row for row in rows if row.name == name), None)

    async def _stack_endpoint(self, store: Stacks, name: str, asked: str) -> str:
        """The host a command on stack ``name`` acts on: a stack of Berth's own (files here) is its host's, and a
        command asked on another host is refused with a sentence; otherwise ``asked`` (an endpoint this panel
        knows)."""
        self._stack_name(name)
        if self.endpoints is not None and asked not in self.endpoints:
            raise CommandError(f'unknown Docker endpoint "{clip(asked)}"')
        if await asyncio.to_thread(store.exists, name):
            owner = await asyncio.to_thread(store.endpoint, name)
            if owner != asked:
                raise CommandError(f'the stack {name} belongs to host "{clip(owner)}", not "{clip(asked)}"')
            return owner
        return asked

    def _stack_name(self, name: str) -> None:
        try:
            check_name(name)
        except StackError as error:
            raise CommandError(str(error)) from None

    def _stacks(self) -> Stacks:
        if self.stacks is None:
            raise CommandError('stacks are not set up on this panel')
        return self.stacks


def on_host(endpoint: str) -> str:
    """' on host "b"' in a sentence about another host than local ('' for local)."""
    return '' if endpoint == LOCAL_ENDPOINT else f' on host "{clip(endpoint)}"'
