"""The authorization matrix: every mutating action × every role, checked on the server when the action runs."""

from __future__ import annotations

import inspect
import subprocess
import uuid
from collections.abc import Callable
from typing import Any

import docker
import pytest

from core.commands.spec import ContainerSpec
from core.container_actions import ACTIONS
from core.permissions import Forbidden, Identity, Permission
from system import Services
from tests.support import BUSYBOX
from tests.support.eventually import eventually

ROLE_ALLOWED = {'viewer': False, 'operator': True, 'admin': True}
BEFORE = {'start': 'exited', 'unpause': 'paused'}


@pytest.mark.parametrize('role', list(ROLE_ALLOWED))
@pytest.mark.parametrize('action', ACTIONS)
async def test_container_action_by_role(
    services: Services, docker_client: docker.DockerClient, make_container: Callable[..., str], action: str, role: str
) -> None:
    name = make_container()
    if BEFORE.get(action) == 'exited':
        subprocess.run(['docker', 'kill', name], check=True, capture_output=True)
    if BEFORE.get(action) == 'paused':
        subprocess.run(['docker', 'pause', name], check=True, capture_output=True)
    before = BEFORE.get(action, 'running')
    await eventually(lambda: (row := services.state.find(name)) is not None and row.state == before, what=before)
    row = services.state.find(name)
    assert row is not None
    identity = Identity(username=f'{role}-user', role=role, address='127.0.0.1')
    started_at = docker_client.api.inspect_container(name)['State']['StartedAt']
    if not ROLE_ALLOWED[role]:
        with pytest.raises(Forbidden, match='needs the operator role'):
            await services.commands.container_action(identity, action, row.id, {'force': True})
        # refused, audited, and Docker did not change
        after = docker_client.api.inspect_container(name)['State']
        assert (after['Status'], after['StartedAt']) == (before, started_at)
        assert services.jobs.active_count == 0 and not services.jobs.jobs
        entry = services.audit.entries(username=f'{role}-user')[0]
        assert (entry.action, entry.result[:8]) == (f'container.{action}', 'refused:')
        return
    job = await services.commands.container_action(identity, action, row.id, {'force': True, 'timeout': 1})
    await eventually(
        lambda: services.jobs.jobs[job.job_id].status in ('succeeded', 'failed'), timeout=30, what='job finished'
    )
    assert services.jobs.jobs[job.job_id].status == 'succeeded', services.jobs.jobs[job.job_id].message
    assert services.audit.entries(username=f'{role}-user')[0].action == f'container.{action}'


async def test_anonymous_is_refused(services: Services, make_container: Callable[..., str]) -> None:
    name = make_container()
    await eventually(lambda: services.state.find(name) is not None, what='appears')
    row = services.state.find(name)
    assert row is not None
    with pytest.raises(Forbidden, match='sign in'):
        await services.commands.container_action(None, 'stop', row.id)


def image_commands(services: Services, busybox_id: str, tag: str) -> dict[str, Callable[[Identity | None], Any]]:
    """Every other mutating command, each as the one call a page handler makes."""
    commands = services.commands
    return {
        'image.pull': lambda who: commands.pull_image(who, '127.0.0.1:1/berth-never/there:1'),
        'image.tag': lambda who: commands.tag_image(who, busybox_id, tag),
        'image.remove': lambda who: commands.remove_image(who, busybox_id),
        'image.prune': lambda who: commands.prune_images(who, 'dangling', []),
        'container.create': lambda who: commands.create_container(
            who, ContainerSpec(image=BUSYBOX, name=tag.rsplit(':', 1)[1], command=['true'], start=False)
        ),
        'network.create': lambda who: commands.create_network(who, 'bt-net-authz', subnet='10.213.200.0/24'),
        'network.remove': lambda who: commands.remove_network(who, 'bridge'),
        'network.prune': lambda who: commands.prune_networks(who, ['bridge']),
        'network.connect': lambda who: commands.connect_network(who, 'bridge', 'no-such-container'),
        'network.disconnect': lambda who: commands.disconnect_network(who, 'bridge', 'no-such-container'),
        'job.cancel': lambda who: commands.cancel_job(who, 'no-such-job'),
        'registry.forget': lambda who: commands.forget_credentials(who, '127.0.0.1:1'),
        'volume.create': lambda who: commands.create_volume(who, 'bt-vol-authz-never'),
        'volume.remove': lambda who: commands.remove_volume(who, 'bt-vol-authz-never', force=True),
        'volume.prune': lambda who: commands.prune_volumes(who, 'all', ['bt-vol-authz-never']),
    }


@pytest.mark.parametrize('role', [None, 'viewer'])
async def test_every_other_command_is_refused_below_operator_and_changes_nothing(
    services: Services, docker_client: docker.DockerClient, role: str | None
) -> None:
    identity = Identity(username=f'{role}-user', role=role, address='127.0.0.1') if role else None
    busybox_id = docker_client.images.get(BUSYBOX).id
    name = f'berth-test-{uuid.uuid4().hex[:10]}'
    images_before = sorted(image.id for image in docker_client.images.list(all=True))
    for kind, command in image_commands(services, busybox_id, f'berth-test/authz:{name}').items():
        with pytest.raises(Forbidden, match='sign in' if role is None else 'needs the operator role'):
            result = command(identity)
            if inspect.isawaitable(result):
                await result
        entry = services.audit.entries(limit=1)[0]
        assert (entry.action, entry.result[:8]) == (kind, 'refused:'), kind
    # nothing was queued, and the engine is as it was
    assert not services.jobs.jobs
    assert sorted(image.id for image in docker_client.images.list(all=True)) == images_before
    assert not docker_client.containers.list(all=True, filters={'name': name})
    assert BUSYBOX in docker_client.images.get(BUSYBOX).tags
    assert not docker_client.volumes.list(filters={'name': 'bt-vol-authz-never'})
    assert not docker_client.networks.list(names=['bt-net-authz'])


async def test_an_operator_passes_the_same_guard(services: Services, docker_client: docker.DockerClient) -> None:
    operator = Identity(username='op-user', role='operator', address='127.0.0.1')
    busybox_id = docker_client.images.get(BUSYBOX).id
    name = f'berth-test-{uuid.uuid4().hex[:10]}'
    commands = image_commands(services, busybox_id, f'berth-test/authz:{name}')
    try:
        for kind in ('image.pull', 'image.tag', 'container.create'):
            job = await commands[kind](operator)
            assert (job.kind, job.requested_by) == (kind, 'op-user')
        await eventually(
            lambda: all(job.status in ('succeeded', 'failed') for job in services.jobs.jobs.values()),
            timeout=30,
            what='jobs finished',
        )
        assert f'berth-test/authz:{name}' in docker_client.images.get(BUSYBOX).tags
    finally:
        subprocess.run(['docker', 'rm', '-f', name], capture_output=True)
        subprocess.run(['docker', 'rmi', f'berth-test/authz:{name}'], capture_output=True)


async def test_a_developer_acts_on_its_own_containers_only_and_sees_only_those_jobs(
    services: Services, make_container: Callable[..., str]
) -> None:
    dana = Identity(username='dana', role='developer', address='127.0.0.1', subject='https://idp|dana-42')
    mine = make_container(labels={'berth.owner': dana.owner_id})
    named_like_her = make_container(labels={'berth.owner': 'dana'})  # the display name is no owner
    nobodys = make_container()
    await eventually(lambda: all(services.state.find(name) for name in (mine, named_like_her, nobodys)), what='rows')
    for name in (named_like_her, nobodys):
        row = services.state.find(name)
        assert row is not None
        with pytest.raises(Forbidden, match='dana is a developer: stop containers needs the operator role'):
            await services.commands.container_action(dana, 'stop', row.id, {'timeout': 1})
    refusals = services.audit.entries(username='dana', action='container.stop')
    assert [entry.target for entry in refusals] == [nobodys, named_like_her]
    assert all(entry.result.startswith('refused:') for entry in refusals)
    row = services.state.find(mine)
    assert row is not None
    job = await services.commands.container_action(dana, 'stop', row.id, {'timeout': 1})
    await eventually(lambda: services.jobs.jobs[job.job_id].status == 'succeeded', timeout=30, what='stopped')
    assert services.jobs.jobs[job.job_id].owner == dana.owner_id
    eve = Identity(username='eve', role='developer', subject='https://idp|eve-7')
    assert dana.can(Permission.JOB_READ, services.jobs.jobs[job.job_id].scope)
    assert not eve.can(Permission.JOB_READ, services.jobs.jobs[job.job_id].scope)
