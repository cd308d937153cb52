"""Flow 2 against the real engine, embedded broker: guard → audit → actor → Docker → job result on the bus."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import docker
import pytest

from core.jobs.store import Job
from system import Services
from tests.support.eventually import eventually

from .conftest import OPERATOR


async def finished(services: Services, job: Job, timeout: float = 30) -> Job:
    await eventually(
        lambda: services.jobs.jobs[job.job_id].status in ('succeeded', 'failed'),
        timeout=timeout,
        what=f'{job.kind} to finish',
    )
    return services.jobs.jobs[job.job_id]


@pytest.mark.parametrize(
    ('action', 'before', 'after'),
    [
        ('stop', 'running', 'exited'),
        ('pause', 'running', 'paused'),
        ('kill', 'running', 'exited'),
        ('restart', 'running', 'running'),
        ('start', 'exited', 'running'),
        ('unpause', 'paused', 'running'),
    ],
)
async def test_each_lifecycle_action(
    services: Services,
    docker_client: docker.DockerClient,
    make_container: Callable[..., str],
    action: str,
    before: str,
    after: str,
) -> None:
    # Given a container in the state the action needs
    name = make_container(command='sleep 600')
    if before == 'exited':
        subprocess.run(['docker', 'kill', name], check=True, capture_output=True)
    if before == 'paused':
        subprocess.run(['docker', 'pause', name], check=True, capture_output=True)
    await eventually(lambda: (row := services.state.find(name)) is not None and row.state == before, what=before)
    row = services.state.find(name)
    assert row is not None
    started_at = docker_client.api.inspect_container(name)['State']['StartedAt']
    # When an operator asks for the action
    job = await services.commands.container_action(OPERATOR, action, row.id, {'timeout': 1})
    # Then the job result reaches the bus, the daemon did it, and the state follows through events
    done = await finished(services, job)
    assert done.status == 'succeeded', done.message
    assert done.requested_by == 'olga' and done.target_name == name
    await eventually(lambda: services.state.containers[row.id].state == after, what=after)
    assert docker_client.api.inspect_container(name)['State']['Status'] == after
    if action == 'restart':
        assert docker_client.api.inspect_container(name)['State']['StartedAt'] != started_at
    assert [entry.action for entry in services.audit.entries(username='olga')][-1] == f'container.{action}'


async def test_remove_with_volumes_and_force(
    services: Services, docker_client: docker.DockerClient, make_container: Callable[..., str]
) -> None:
    name = make_container(extra=['-v', '/scratch'])
    await eventually(lambda: services.state.find(name) is not None, what='appears')
    row = services.state.find(name)
    assert row is not None
    volume = docker_client.api.inspect_container(name)['Mounts'][0]['Name']
    job = await services.commands.container_action(OPERATOR, 'remove', row.id, {'force': True, 'volumes': True})
    assert (await finished(services, job)).status == 'succeeded'
    await eventually(lambda: row.id not in services.state.containers, what='gone from state')
    assert volume not in [item['Name'] for item in docker_client.api.volumes()['Volumes'] or []]


async def test_container_vanished_meanwhile_is_a_failed_job_with_a_sentence(
    services: Services, make_container: Callable[..., str]
) -> None:
    name = make_container()
    await eventually(lambda: services.state.find(name) is not None, what='appears')
    row = services.state.find(name)
    assert row is not None
    # the worker is slower than a colleague at the CLI: stop the embedded worker's consumers for a moment
    services._worker.pause()  # type: ignore[union-attr]
    try:
        job = await services.commands.container_action(OPERATOR, 'stop', row.id)
        subprocess.run(['docker', 'rm', '-f', name], check=True, capture_output=True)
    finally:
        services._worker.resume()  # type: ignore[union-attr]
    done = await finished(services, job)
    assert done.status == 'failed'
    assert 'No such container' in done.message and 'Traceback' not in done.message
