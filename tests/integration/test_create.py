"""Create-and-run against the real engine: what the form says is what the daemon gets; the body-level policy holds
by every path (the command layer, and the actor again for a job that skipped it)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import docker
import pytest

from core.commands.spec import ContainerSpec
from core.commands.spec_form import spec_from_form
from core.jobs.store import Job
from core.permissions import Forbidden, Identity, Permission
from system import Services
from tests.support import BUSYBOX, free_port
from tests.support.eventually import eventually

from .conftest import OPERATOR, VIEWER

ADMIN = Identity(username='ada', role='admin', address='127.0.0.1')
NewName = Callable[[], str]


async def finished(services: Services, job: Job, timeout: float = 30) -> Job:
    await eventually(
        lambda: services.jobs.jobs[job.job_id].status in ('succeeded', 'failed'),
        timeout=timeout,
        what=f'{job.kind} {job.target_name} to finish',
    )
    return services.jobs.jobs[job.job_id]


async def create_skipping_the_command(services: Services, identity: Identity, name: str, spec: dict[str, Any]) -> Job:
    """A create sent straight to the actor past the command layer's policy check (as a bug or another module might):
    only the role check of ``dispatch`` runs, so what the actor refuses it refuses by itself."""
    return await services.commands.dispatch(
        identity,
        permission=Permission.CONTAINER_CREATE,
        what='create containers',
        kind='container.create',
        target=name,
        target_name=name,
        params={},
        arguments=(spec,),
    )


@pytest.fixture
def new_name() -> Iterator[NewName]:
    """Names for containers the panel will create (and volumes named after them); all removed afterwards."""
    names: list[str] = []

    def make() -> str:
        names.append(f'berth-test-{uuid.uuid4().hex[:10]}')
        return names[-1]

    yield make
    for name in names:
        subprocess.run(['docker', 'rm', '-f', '-v', name], check=False, capture_output=True)
        subprocess.run(['docker', 'volume', 'rm', '-f', f'{name}-data'], check=False, capture_output=True)


def exists(name: str) -> bool:
    return subprocess.run(['docker', 'container', 'inspect', name], check=False, capture_output=True).returncode == 0


async def test_create_and_run_gives_the_daemon_exactly_the_form(
    services: Services, new_name: NewName, docker_client: docker.DockerClient
) -> None:
    # Given the form filled in by an operator
    name, port = new_name(), free_port()
    spec = spec_from_form(
        {
            'image': BUSYBOX,
            'name': name,
            'command': 'sh -c "sleep 600"',
            'environment': 'GREETING=hello, world\nEMPTY=',
            'ports': f'127.0.0.1:{port}:8080/tcp, 9090/udp',
            'mounts': f'{name}-data:/data:ro',
            'restart_policy': 'unless-stopped',
            'memory': '64m',
            'cpus': '0.5',
            'labels': 'berth-test=1\nteam=blue',
            'tty': True,
            'stdin_open': True,
            'start': True,
        }
    )
    # When it is submitted
    done = await finished(services, await services.commands.create_container(OPERATOR, spec))
    # Then the job says so, the container runs, and it reached the state through the event stream
    assert done.status == 'succeeded', done.message
    assert done.message.startswith(f'created and started {name} (')
    await eventually(
        lambda: (row := services.state.find(name)) is not None and row.state == 'running', what='running in state'
    )
    # And the daemon's inspect data matches the form
    data: dict[str, Any] = docker_client.api.inspect_container(name)
    config, host = data['Config'], data['HostConfig']
    assert config['Image'] == BUSYBOX and config['Cmd'] == ['sh', '-c', 'sleep 600']
    assert {'GREETING=hello, world', 'EMPTY='} <= set(config['Env'])
    assert config['Labels'] == {'berth-test': '1', 'team': 'blue'}
    assert config['Tty'] is True and config['OpenStdin'] is True
    assert host['PortBindings'] == {
        '8080/tcp': [{'HostIp': '127.0.0.1', 'HostPort': str(port)}],
        '9090/udp': [{'HostIp': '', 'HostPort': ''}],
    }
    assert (host['Memory'], host['NanoCpus']) == (64 * 1024 * 1024, 500_000_000)
    assert host['RestartPolicy']['Name'] == 'unless-stopped'
    assert [(mount['Name'], mount['Destination'], mount['RW']) for mount in data['Mounts']] == [
        (f'{name}-data', '/data', False)
    ]
    assert not host['Privileged'] and not host['CapAdd'] and host['NetworkMode'] == 'default'
    # And the audit entry keeps the request without the environment's values
    queued = next(
        entry
        for entry in services.audit.entries(username='olga', action='container.create')
        if entry.result.startswith('queued')
    )
    assert '"GREETING"' in queued.params and 'hello, world' not in queued.params


OPERATOR_REFUSED: dict[str, tuple[dict[str, Any], str]] = {
    'privileged': ({'privileged': True}, 'privileged mode needs the admin role'),
    'capabilities': ({'cap_add': ['NET_ADMIN']}, 'adding capabilities (NET_ADMIN) needs the admin role'),
    'devices': ({'devices': ['/dev/null:/dev/xnull']}, 'host devices (/dev/null:/dev/xnull) need the admin role'),
    'host network': ({'network': 'host'}, 'the host network needs the admin role'),
    'host pid': ({'pid_mode': 'host'}, 'the host PID namespace needs the admin role'),
    'host ipc': ({'ipc_mode': 'host'}, 'the host IPC namespace needs the admin role'),
    'bind mount': (
        {'mounts': [{'target': '/host', 'source': '/etc', 'kind': 'bind'}]},
        'bind mounts of host paths (/etc) need the admin role',
    ),
    'volume driver options': (
        {
            'mounts': [{'target': '/v', 'source': 'x'}],
            'volume_driver': 'local',
            'volume_driver_options': {'type': 'none', 'o': 'bind', 'device': '/etc'},
        },
        'volume driver options need the admin role',
    ),
}


def spec_with(name: str, extra: dict[str, Any]) -> ContainerSpec:
    return ContainerSpec.from_dict(
        {
            'image': BUSYBOX,
            'name': name,
            'command': ['sleep', '600'],
            'labels': {'berth-test': '1'},
            'start': False,
            **extra,
        }
    )


@pytest.mark.parametrize('case', list(OPERATOR_REFUSED))
async def test_operator_is_refused_admin_only_fields_and_docker_is_unchanged(
    services: Services, new_name: NewName, case: str
) -> None:
    extra, sentence = OPERATOR_REFUSED[case]
    name = new_name()
    with pytest.raises(Forbidden) as refused:
        await services.commands.create_container(OPERATOR, spec_with(name, extra))
    assert sentence in str(refused.value)
    assert not exists(name) and not services.jobs.jobs
    entry = services.audit.entries(username='olga', action='container.create')[0]
    assert entry.result.startswith('refused:') and sentence in entry.result


@pytest.mark.parametrize('case', list(OPERATOR_REFUSED))
async def test_admin_may_ask_for_them(
    services: Services, new_name: NewName, docker_client: docker.DockerClient, case: str
) -> None:
    extra, _ = OPERATOR_REFUSED[case]
    name = new_name()
    if case == 'volume driver options':
        extra = {**extra, 'mounts': [{'target': '/v', 'source': f'{name}-data'}]}
    done = await finished(services, await services.commands.create_container(ADMIN, spec_with(name, extra)))
    assert done.status == 'succeeded', done.message
    host = docker_client.api.inspect_container(name)['HostConfig']
    assert ADMIN_GOT[case](host), host


ADMIN_GOT: dict[str, Callable[[dict[str, Any]], bool]] = {
    'privileged': lambda host: host['Privileged'] is True,
    'capabilities': lambda host: host['CapAdd'] == ['NET_ADMIN'],
    'devices': lambda host: host['Devices'][0]['PathInContainer'] == '/dev/xnull',
    'host network': lambda host: host['NetworkMode'] == 'host',
    'host pid': lambda host: host['PidMode'] == 'host',
    'host ipc': lambda host: host['IpcMode'] == 'host',
    'bind mount': lambda host: (host['Mounts'][0]['Type'], host['Mounts'][0]['Source']) == ('bind', '/etc'),
    'volume driver options': lambda host: host['Mounts'][0]['VolumeOptions']['DriverConfig']['Options']['o'] == 'bind',
}


async def test_a_viewer_cannot_create_any_container(services: Services, new_name: NewName) -> None:
    name = new_name()
    with pytest.raises(Forbidden, match='victor is a viewer: create containers needs the operator role'):
        await services.commands.create_container(VIEWER, spec_with(name, {}))
    assert not exists(name) and not services.jobs.jobs


async def test_the_actor_checks_the_policy_again_for_a_job_that_skipped_the_command(
    services: Services, new_name: NewName
) -> None:
    # A privileged create dispatched straight to the actor (as a bug or another module might): the dispatcher
    # puts the role it checked in the job, and the actor refuses with it
    name = new_name()
    spec = spec_with(name, {'privileged': True})
    job = await create_skipping_the_command(services, OPERATOR, name, spec.to_dict())
    done = await finished(services, job)
    assert (done.status, done.message) == ('failed', 'refused: privileged mode needs the admin role')
    assert not exists(name)
    # and a message with fields the form does not have is refused outright
    job = await create_skipping_the_command(
        services, ADMIN, name, {**spec.to_dict(), 'security_opt': ['seccomp=unconfined']}
    )
    done = await finished(services, job)
    assert done.status == 'failed' and 'unknown fields: security_opt' in done.message
    assert not exists(name)


async def test_an_image_the_engine_lacks_is_a_failed_job_with_the_daemon_message(
    services: Services, new_name: NewName
) -> None:
    spec = spec_with(new_name(), {'image': 'berth-test/no-such-image:1'})
    done = await finished(services, await services.commands.create_container(OPERATOR, spec))
    assert done.status == 'failed' and 'No such image' in done.message
