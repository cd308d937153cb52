"""Creating, deleting, handing over and idle-stopping dev environments, as a worker runs them.

Whatever the message says, the worker checks again what the panel checked, with the role the panel signed: the
requester may act on that owner's environments, the owner's quota (signed limits, counted on the engine under the
owner's quota lock), the template's body is one an operator could create (with the protected volumes this worker finds
itself), a home volume that exists already belongs to the same owner, and only containers carrying
``berth.environment`` are deleted, handed over or idle-stopped here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from contextlib import closing, suppress
from dataclasses import dataclass
from typing import Any

import docker
from docker.types import Mount

from core.commands import policy
from core.commands.spec import ContainerSpec, SpecError, create_arguments
from core.docker.client import describe_error
from core.docker.endpoints import Endpoint
from core.environments.environment import IDLE_LABEL, CreateRequest, terminal_labels
from core.environments.quotas import Held
from core.environments.templates import (
    BODY_ROLE,
    ENVIRONMENT_LABEL,
    HOME_LABEL,
    EnvironmentNames,
    Template,
    environment_labels,
)
from core.jobs.locks import LockBusy, Locks
from core.jobs.store import JobStatus
from core.operations.environment_quota import QuotaRefused, held_of, lock_name, owner_environments, signed_quota
from core.operations.report import JobReporter
from core.permissions import OWNER_LABEL, Permission, Scope, role_allows
from core.protection import Protection

COPY = 'cp -a /from/. /to/'  # run by the environment's own image, as root, to keep owners and modes
CREATE_OR_ASSIGN = ('create', 'assign')  # the operations that check a body against the protected volumes


class Refused(Exception):
    """What the worker will not do, whatever the message says; the message is a sentence."""


class Failed(Exception):
    """What went wrong half-way, said in a sentence."""


def environment_operation(
    endpoint: Endpoint,
    reporter: JobReporter,
    operation: str,
    container_id: str,
    params: dict[str, Any],
    role: str,
    protection: Callable[[docker.DockerClient], Protection],
    locks: Locks,
) -> None:
    """The job: one environment operation on ``endpoint``; a sentence of what happened, the daemon's words on failure.
    ``role`` is the one the panel verified and signed; ``protection`` gives this worker's own containers; ``locks``
    are the workers' shared ones (the owner's quota)."""
    try:
        with closing(endpoint.connect()) as client:
            protected = protection(client).protected_volumes(client.api) if operation in CREATE_OR_ASSIGN else set()
            if operation == 'create':
                message = create(client.api, params, role, protected, locks)
            elif operation == 'delete':
                message = delete(client.api, container_id, params, role)
            elif operation == 'assign':
                message = assign(client.api, container_id, params, role, protected, locks)
            elif operation == 'idle_stop':
                message = idle_stop(client.api, container_id, params, role)
            else:
                raise Refused(f'unknown environment operation {operation!r}')
        reporter.publish(JobStatus.SUCCEEDED, message)
    except (Refused, QuotaRefused, LockBusy) as refusal:
        reporter.publish(JobStatus.FAILED, f'refused: {refusal}')
    except Failed as failure:
        reporter.publish(JobStatus.FAILED, str(failure))
    except Exception as error:  # no such image, name taken, engine away: the daemon's own words
        reporter.publish(JobStatus.FAILED, describe_error(error))


def create(api: docker.APIClient, params: dict[str, Any], role: str, protected: Collection[str], locks: Locks) -> str:
    try:
        request = CreateRequest.from_dict(params.get('request') or {})
    except (ValueError, SpecError) as error:
        raise Refused(str(error)) from None
    requester = str(params.get('requester') or '')
    if not role_allows(role, Permission.ENVIRONMENT_CREATE, Scope(owner=request.owner), owner_id=requester):
        raise Refused(f'a {role or "signed-out user"} cannot create environments for someone else')
    quota = signed_quota(params, request.owner)
    spec = environment_spec(request.template, request.names, request.owner, request.name, protected)
    new = Held(name=request.name, running=True, cpus=request.template.cpus, memory=request.template.memory)
    # counted and made under the owner's lock: a create (or start) in another thread or worker waits for this one
    with locks.hold(lock_name(request.owner), f"{quota.username}'s quota"):
        refusal = quota.create_refusal(owner_environments(api, request.owner), new)
        if refusal:
            raise QuotaRefused(refusal)
        return make(api, request, spec)


def make(api: docker.APIClient, request: CreateRequest, spec: ContainerSpec) -> str:
    """Makes (or reattaches) the environment's volumes, its container, and starts it."""
    names = request.names
    volumes = environment_volumes(request.template, names, request.owner, request.name)
    made = []
    try:
        for volume, labels in volumes:
            if ensure_volume(api, volume, labels, request.owner):
                made.append(volume)
        created = api.create_container(**create_arguments(api, spec))
    except Exception:
        for volume in made:  # a failed create leaves no empty volumes behind (a reattached home stays as it was)
            with suppress(docker.errors.APIError):
                api.remove_volume(volume)
        raise
    home = 'a new home' if names.home_volume in made else f'its home {names.home_volume} reattached'
    try:
        api.start(created['Id'])
    except docker.errors.APIError as error:
        raise Failed(f'created {names.container} with {home}, but it did not start: {describe_error(error)}') from None
    return f'created and started {names.container} from {request.template.name}, with {home}'


def idle_stop(api: docker.APIClient, container_id: str, params: dict[str, Any], role: str) -> str:
    """Stops an environment the panel found idle (no open terminal, no exec activity for its idle timeout)."""
    data = api.inspect_container(container_id)
    _environment_of(data)
    if not role_allows(role, Permission.CONTAINER_LIFECYCLE):
        raise Refused(f'a {role or "signed-out user"} cannot stop environments that are idle')
    container = str(data.get('Name', '')).lstrip('/')
    minutes = int(params.get('idle_minutes') or 0)
    if not (data.get('State') or {}).get('Running'):
        return f'{container} had stopped already'
    api.stop(data['Id'], timeout=10)
    return f'Stopped {container} after {minutes} idle minute{"" if minutes == 1 else "s"}'


def delete(api: docker.APIClient, container_id: str, params: dict[str, Any], role: str) -> str:
    data = api.inspect_container(container_id)
    name, owner = _environment_of(data)
    requester = str(params.get('requester') or '')
    if not role_allows(role, Permission.ENVIRONMENT_DELETE, Scope(owner=owner), owner_id=requester):
        raise Refused(f"a {role or 'signed-out user'} cannot delete someone else's environment")
    volumes = own_volumes(api, data, owner, name)
    api.remove_container(data['Id'], force=True)
    if params.get('keep_home', True):
        return f'deleted; its volumes are kept ({", ".join(volumes) or "none"})'
    for volume in volumes:
        api.remove_volume(volume)
    return f'deleted with its volumes ({", ".join(volumes) or "none"})'


@dataclass(kw_only=True, slots=True, frozen=True)
class Move:
    """One volume of an environment handed over: its data is copied into a volume that carries the new owner."""

    source: str
    target: str
    labels: dict[str, str]


def assign(
    api: docker.APIClient,
    container_id: str,
    params: dict[str, Any],
    role: str,
    protected: Collection[str],
    locks: Locks,
) -> str:
    if not role_allows(role, Permission.ENVIRONMENT_ASSIGN):
        raise Refused(f'a {role or "signed-out user"} cannot hand environments over')
    data = api.inspect_container(container_id)
    name, old_owner = _environment_of(data)
    owner, username = str(params.get('owner') or ''), str(params.get('username') or '')
    try:
        template = Template(**dict(params.get('template') or {}))
        template.validate()
    except (TypeError, ValueError) as error:
        raise Refused(f'the template is not valid: {error}') from None
    if not owner or owner == old_owner:
        raise Refused(f'the environment belongs to {username or "that person"} already')
    old = EnvironmentNames.of(owner_id=old_owner, username='', name=name)
    new = EnvironmentNames.of(owner_id=owner, username=username, name=name)
    spec = environment_spec(template, new, owner, name, protected)
    moves = planned_moves(api, data, old, new, owner, name)
    for move in moves:
        if _volume_exists(api, move.target):
            raise Refused(f'the volume {move.target} exists already: {username} keeps a home of that name')
    quota = signed_quota(params, owner)
    # counted and handed over under the new owner's lock: a create or start of theirs elsewhere waits for this one
    with locks.hold(lock_name(owner), f"{quota.username}'s quota"):
        refusal = quota.take_refusal(owner_environments(api, owner), held_of(data))
        if refusal:
            raise QuotaRefused(f'{username} cannot take it: {refusal}')
        return _hand_over(api, data, template, spec, moves, username, new)


def _hand_over(
    api: docker.APIClient,
    data: dict[str, Any],
    template: Template,
    spec: ContainerSpec,
    moves: list[Move],
    username: str,
    new: EnvironmentNames,
) -> str:
    """Stops and renames the old container, copies the volumes, makes the new container (started when the old one
    ran); on failure the old one is put back as it was."""
    running = bool((data.get('State') or {}).get('Running'))
    old_name = str(data.get('Name', '')).lstrip('/')
    api.stop(data['Id'], timeout=10)
    api.rename(data['Id'], f'{old_name}-handed-over-{uuid.uuid4().hex[:6]}')  # the new one may take the same name
    made: list[str] = []
    try:
        for move in moves:
            api.create_volume(name=move.target, driver='local', labels=move.labels)
            made.append(move.target)
            copy_volume(api, str(data.get('Image') or template.image), move.source, move.target)
        created = api.create_container(**create_arguments(api, spec))
    except Exception:
        for volume in made:
            with suppress(docker.errors.APIError):
                api.remove_volume(volume)
        api.rename(data['Id'], old_name)
        if running:
            api.start(data['Id'])
        raise
    api.remove_container(data['Id'], force=True)
    for move in moves:
        api.remove_volume(move.source)
    if running:
        api.start(created['Id'])
    return f'handed to {username} as {new.container}'


def environment_spec(
    template: Template, names: EnvironmentNames, owner: str, name: str, protected: Collection[str]
) -> ContainerSpec:
    """The container of an environment: the template's body, checked as an operator's request against the protected
    volumes, then Berth's own labels (owner, environment, template, terminal) added."""
    extra = {volume.partition(':')[0]: names.extra_volume(volume.partition(':')[0]) for volume in template.volumes}
    spec = template.container_spec(
        container_name=names.container, home_volume=names.home_volume, extra_volumes=extra, labels={}
    )
    reasons = policy.refusals(spec, BODY_ROLE, protected)
    if reasons:
        raise Refused(f'the template {template.name}: {"; ".join(reasons)}')
    spec.labels = {
        **environment_labels(owner_id=owner, name=name, template=template.name),
        **terminal_labels(template),
        IDLE_LABEL: str(template.idle_minutes),
    }
    return spec


def environment_volumes(
    template: Template, names: EnvironmentNames, owner: str, name: str
) -> list[tuple[str, dict[str, str]]]:
    """Each volume of the environment (the home first) with the labels it is made with."""
    mine = {OWNER_LABEL: owner, ENVIRONMENT_LABEL: name}
    volumes = [(names.home_volume, {**mine, HOME_LABEL: name})]
    for volume in template.volumes:
        volumes.append((names.extra_volume(volume.partition(':')[0]), dict(mine)))
    return volumes


def ensure_volume(api: docker.APIClient, volume: str, labels: dict[str, str], owner: str) -> bool:
    """Creates the volume (True), or reattaches it when it exists and carries the same owner (False); a volume of
    anyone else is refused with a sentence."""
    try:
        existing = api.inspect_volume(volume)
    except docker.errors.NotFound:
        api.create_volume(name=volume, driver='local', labels=labels)
        return True
    if (existing.get('Labels') or {}).get(OWNER_LABEL) != owner:
        raise Refused(f'the volume {volume} exists and belongs to someone else: it is not reattached')
    return False


def own_volumes(api: docker.APIClient, data: dict[str, Any], owner: str, name: str) -> list[str]:
    """The named volumes the container mounts that carry its owner and environment (never anybody else's)."""
    found = []
    for mount in data.get('Mounts') or []:
        if mount.get('Type') != 'volume' or not mount.get('Name'):
            continue
        labels = api.inspect_volume(mount['Name']).get('Labels') or {}
        if labels.get(OWNER_LABEL) == owner and labels.get(ENVIRONMENT_LABEL) == name:
            found.append(str(mount['Name']))
    return found


def planned_moves(
    api: docker.APIClient, data: dict[str, Any], old: EnvironmentNames, new: EnvironmentNames, owner: str, name: str
) -> list[Move]:
    moves = []
    old_owner = str(((data.get('Config') or {}).get('Labels') or {}).get(OWNER_LABEL, ''))
    for volume in own_volumes(api, data, old_owner, name):
        labels = {OWNER_LABEL: owner, ENVIRONMENT_LABEL: name}
        if volume == old.home_volume:
            moves.append(Move(source=volume, target=new.home_volume, labels={**labels, HOME_LABEL: name}))
        elif volume.startswith(f'{old.volume_prefix}-'):
            key = volume.removeprefix(f'{old.volume_prefix}-')
            moves.append(Move(source=volume, target=new.extra_volume(key), labels=labels))
    return moves


def copy_volume(api: docker.APIClient, image: str, source: str, target: str) -> None:
    """Copies every file (owners and modes kept) from one volume into another with a short-lived container of the
    environment's own image; raises Refused with the copy's output when it fails."""
    host_config = api.create_host_config(
        mounts=[
            Mount(target='/from', source=source, type='volume', read_only=True),
            Mount(target='/to', source=target, type='volume'),
        ],
        network_mode='none',
    )
    helper = api.create_container(
        image=image, entrypoint=['/bin/sh', '-c'], command=[COPY], user='0', host_config=host_config
    )
    try:
        api.start(helper['Id'])
        code = int(api.wait(helper['Id'], timeout=1800).get('StatusCode', 1))
        if code != 0:
            output = api.logs(helper['Id']).decode(errors='replace').strip()[-500:]
            raise Failed(f'copying {source} failed (exit code {code}): {output or "no output"}')
    finally:
        with suppress(docker.errors.APIError):
            api.remove_container(helper['Id'], force=True)


def _environment_of(data: dict[str, Any]) -> tuple[str, str]:
    labels = (data.get('Config') or {}).get('Labels') or {}
    name = str(data.get('Name', '')).lstrip('/')
    if not labels.get(ENVIRONMENT_LABEL):
        raise Refused(f'{name} is not a dev environment')
    return str(labels[ENVIRONMENT_LABEL]), str(labels.get(OWNER_LABEL, ''))


def _volume_exists(api: docker.APIClient, volume: str) -> bool:
    try:
        api.inspect_volume(volume)
    except docker.errors.NotFound:
        return False
    return True
