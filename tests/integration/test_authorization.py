"""The authorization matrix: every mutating action × every role, checked on the server when the action runs."""
from __future__ import annotations

from collections.abc import Callable

import docker
import pytest

from auth.guard import Forbidden, Identity
from core.docker_access import ACTIONS
from core.services import Services

from .conftest import eventually

ROLE_ALLOWED = {'viewer': False, 'operator': True, 'admin': True}
BEFORE = {'start': 'exited', 'unpause': 'paused'}


@pytest.mark.parametrize('role', list(ROLE_ALLOWED))
@pytest.mark.parametrize('action', ACTIONS)
async def test_container_action_by_role(services: Services, docker_client: docker.DockerClient,
                                        make_container: Callable[..., str], action: str, role: str) -> None:
    import subprocess
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
    await eventually(lambda: services.jobs.jobs[job.job_id].status in ('succeeded', 'failed'), timeout=30,
                     what='job finished')
    assert services.jobs.jobs[job.job_id].status == 'succeeded', services.jobs.jobs[job.job_id].message
    assert services.audit.entries(username=f'{role}-user')[0].action == f'container.{action}'


async def test_anonymous_is_refused(services: Services, make_container: Callable[..., str]) -> None:
    name = make_container()
    await eventually(lambda: services.state.find(name) is not None, what='appears')
    row = services.state.find(name)
    assert row is not None
    with pytest.raises(Forbidden, match='sign in'):
        await services.commands.container_action(None, 'stop', row.id)
