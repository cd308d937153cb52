"""Volumes against the real engine: create, remove (refused while in use, naming the container; forced), prune of
exactly the confirmed list with the space that came back, and the actor's own checks for a job that skipped the
command layer."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import docker
import pytest

from core.errors import CommandError
from core.jobs.store import Job
from core.operations import volumes as volume_operations
from core.permissions import Identity, Permission, Scope
from system import Services
from tests.support import BUSYBOX
from tests.support.eventually import eventually

from .conftest import OPERATOR
from .test_create import finished

ADMIN = Identity(username='ada', role='admin', address='127.0.0.1')
PREFIX = 'bt-vol-'


@pytest.fixture
def cleanup() -> Iterator[Callable[[str, str], str]]:
    """Records containers and volumes a test makes (named with the prefix, or anonymous); removes them afterwards."""
    made: list[tuple[str, str]] = []

    def track(kind: str, name: str) -> str:
        made.append((kind, name))
        return name

    yield track
    for kind, name in sorted(made, key=lambda item: item[0] != 'container'):  # containers before their volumes
        command = ['docker', 'rm', '-f', '-v', name] if kind == 'container' else ['docker', 'volume', 'rm', '-f', name]
        subprocess.run(command, capture_output=True, check=False)


def unique(what: str = 'data') -> str:
    return f'{PREFIX}{what}-{uuid.uuid4().hex[:8]}'


def docker_cli(*arguments: str) -> str:
    return subprocess.run(['docker', *arguments], check=True, capture_output=True, text=True).stdout.strip()


def anonymous_volume(track: Callable[[str, str], str], megabytes: int = 0) -> str:
    """An unused anonymous volume: made by ``docker run -v /data`` (with ``megabytes`` written), the container then
    removed without its volumes."""
    container = track('container', unique('maker'))
    script = f'head -c {megabytes * 1_000_000} /dev/urandom > /data/blob' if megabytes else 'true'
    docker_cli('run', '--name', container, '--label', 'berth-test=1', '-v', '/data', BUSYBOX, 'sh', '-c', script)
    name = docker_cli('inspect', '--format', '{{range .Mounts}}{{.Name}}{{end}}', container)
    track('volume', name)
    docker_cli('rm', container)
    return name


def volume_exists(docker_client: docker.DockerClient, name: str) -> bool:
    try:
        docker_client.api.inspect_volume(name)
        return True
    except docker.errors.NotFound:
        return False


async def test_create_through_the_panel(
    services: Services, docker_client: docker.DockerClient, cleanup: Callable[[str, str], str]
) -> None:
    name = cleanup('volume', unique())
    # When an operator creates a volume with labels, the engine has it and the state shows it (through events)
    done = await finished(
        services, await services.commands.create_volume(OPERATOR, name, 'local', 'team=shop\ntier=db')
    )
    assert (done.status, done.message) == ('succeeded', 'created (driver local)')
    assert docker_client.api.inspect_volume(name)['Labels'] == {'team': 'shop', 'tier': 'db'}
    await eventually(lambda: name in services.state.volumes, what='the new volume in the state')
    # And the same name again is a sentence, nothing queued
    with pytest.raises(CommandError, match=f'a volume named {name} already exists'):
        await services.commands.create_volume(OPERATOR, name)
    # An admin's driver options reach the engine
    tmpfs = cleanup('volume', unique('tmpfs'))
    job = await services.commands.create_volume(ADMIN, tmpfs, 'local', '', 'type=tmpfs\ndevice=tmpfs\no=size=8m')
    assert (await finished(services, job)).status == 'succeeded'
    assert docker_client.api.inspect_volume(tmpfs)['Options'] == {'type': 'tmpfs', 'device': 'tmpfs', 'o': 'size=8m'}


async def test_removal_is_refused_while_in_use_naming_the_container_and_forced_removes_both(
    services: Services, docker_client: docker.DockerClient, make_container: Callable[..., str], cleanup: Any
) -> None:
    # Given a volume a stopped container uses
    name = cleanup('volume', unique())
    docker_cli('volume', 'create', name)
    container = make_container(name=cleanup('container', unique('user')), start=False, extra=['-v', f'{name}:/data'])
    await eventually(
        lambda: (
            name in services.state.volumes
            and [row.name for row in services.commands.volume_users(services.state.volumes[name])] == [container]
        ),
        what='the volume and its user in the state',
    )
    # When an operator removes it, Then the panel refuses with a sentence naming the container, and queues nothing
    with pytest.raises(CommandError) as refusal:
        await services.commands.remove_volume(OPERATOR, name)
    assert str(refusal.value) == (
        f'volume {name} is in use by {container}: remove it first, or force the removal (which removes it)'
    )
    assert not services.jobs.jobs and volume_exists(docker_client, name)
    # When forced, the container goes first, then the volume
    done = await finished(services, await services.commands.remove_volume(OPERATOR, name, force=True))
    assert (done.status, done.message) == ('succeeded', f'removed, with the containers that used it: {container}')
    assert not volume_exists(docker_client, name)
    assert not docker_client.containers.list(all=True, filters={'name': container})
    await eventually(lambda: name not in services.state.volumes, what='the volume gone from the state')


async def test_prune_removes_exactly_the_confirmed_volumes_and_says_what_came_back(
    services: Services, docker_client: docker.DockerClient, make_container: Callable[..., str], cleanup: Any
) -> None:
    # Given two unused anonymous volumes (one holding 2 MB), an unused named one and an anonymous one in use
    confirmed, other = anonymous_volume(cleanup, megabytes=2), anonymous_volume(cleanup)
    named = cleanup('volume', unique('named'))
    docker_cli('volume', 'create', named)
    user = make_container(name=cleanup('container', unique('user')), start=False, extra=['-v', '/data'])
    in_use = docker_cli('inspect', '--format', '{{range .Mounts}}{{.Name}}{{end}}', user)
    await eventually(
        lambda: (
            {confirmed, other, named, in_use} <= set(services.state.volumes)
            and in_use in {name for row in services.state.containers.values() for name in row.volumes}
        ),
        what='the volumes and the user in the state',
    )
    # Then the preview offers the unused anonymous ones only; named ones too only when 'all' is chosen
    anonymous = {row.name for row in services.commands.volume_prune_candidates(OPERATOR, 'anonymous')}
    assert {confirmed, other} <= anonymous and not {named, in_use} & anonymous
    assert named in {row.name for row in services.commands.volume_prune_candidates(OPERATOR, 'all')}
    # When the operator confirms one of them, exactly that one goes, and the message says how much came back
    done = await finished(services, await services.commands.prune_volumes(OPERATOR, 'anonymous', [confirmed]))
    assert (done.status, done.message) == ('succeeded', 'removed 1 volume, 2 MB reclaimed')
    assert [volume_exists(docker_client, name) for name in (confirmed, other, named, in_use)] == [
        False,
        True,
        True,
        True,
    ]
    # And a name in use is refused by the panel; one that the engine refuses by the time the job runs is kept
    with pytest.raises(CommandError, match=f'the list changed meanwhile \\({in_use} no longer qualifies\\)'):
        await services.commands.prune_volumes(OPERATOR, 'anonymous', [in_use])
    status, message, _ = volume_operations.prune(docker_client, [other, in_use], set())
    assert status == 'succeeded' and message.startswith(f'removed 1 volume, 0 B reclaimed; kept 1: {in_use}: ')
    assert 'volume is in use' in message and volume_exists(docker_client, in_use)


async def skipping_the_command(services: Services, identity: Identity, kind: str, name: str, params: dict) -> Job:
    """A job sent straight to the actor past the command layer (as a bug or another module might): only the role
    check of ``dispatch`` runs, so what the actor refuses it refuses by itself."""
    operation = kind.split('.', 1)[1]
    return await services.commands.dispatch(
        identity,
        permission=Permission.VOLUME_CREATE if operation == 'create' else Permission.VOLUME_REMOVE,
        what='change volumes',
        kind=kind,
        target=name,
        target_name=name,
        params=params,
        arguments=(operation, name),
        scope=Scope(),
    )


async def test_the_actor_checks_driver_options_and_berths_volumes_again(
    services: Services, docker_client: docker.DockerClient, cleanup: Any
) -> None:
    # An operator's driver options that skipped the command layer: the actor refuses them, nothing is created
    name = cleanup('volume', unique('bind'))
    params = {'driver': 'local', 'labels': {}, 'driver_options': {'type': 'none', 'o': 'bind', 'device': '/etc'}}
    done = await finished(services, await skipping_the_command(services, OPERATOR, 'volume.create', name, params))
    assert (done.status, done.message) == ('failed', 'refused: volume driver options need the admin role')
    assert not volume_exists(docker_client, name)
    # A protected volume an operator's job names: refused by the actor, which looks the volumes up itself
    protected = cleanup('volume', unique('own'))
    docker_cli('volume', 'create', '--label', 'berth.protected=true', protected)
    params = {'force': False, 'containers': []}
    done = await finished(services, await skipping_the_command(services, OPERATOR, 'volume.remove', protected, params))
    assert (done.status, done.message) == (
        'failed',
        f"refused: {protected} is one of Berth's protected volumes: removing it needs the admin role",
    )
    assert volume_exists(docker_client, protected)
    # A create of a name that exists by now (the engine would just say yes, keeping the old volume): a sentence
    params = {'driver': 'local', 'labels': {'berth.protected': 'false'}, 'driver_options': {}}
    done = await finished(services, await skipping_the_command(services, ADMIN, 'volume.create', protected, params))
    assert (done.status, done.message) == ('failed', f'a volume named {protected} already exists')
    assert docker_client.api.inspect_volume(protected)['Labels'] == {'berth.protected': 'true'}
    # (control: an admin removes it)
    done = await finished(services, await services.commands.remove_volume(ADMIN, protected))
    assert done.status == 'succeeded' and not volume_exists(docker_client, protected)
