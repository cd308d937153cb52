"""What runs on another host besides containers' lifecycle: pull, image prune and create on engine B (a second real
engine on a loopback TCP port with mutual TLS, RECIPES: a second engine); the host's own engine is never touched."""

from __future__ import annotations

import asyncio
import json
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import docker
import pytest

from components.stack_services import service_rows
from core.commands.spec import ContainerSpec
from core.endpoint_roles import EndpointRoles
from core.errors import CommandError
from core.jobs.store import Job, JobStatus
from core.permissions import LOCAL_ENDPOINT, Forbidden, Identity
from core.settings import Settings
from core.stacks.actions import StackAction
from core.stacks.store import StackFiles
from system import Services, build
from tests.support import BUSYBOX
from tests.support.engine import OwnEngine, endpoints_setting, started_tls_engine
from tests.support.eventually import eventually
from tests.support.moving_tag import MovingTag
from tests.support.registry import LocalRegistry
from tests.support.tcp_proxy import TcpProxy
from tests.support.tls import TlsFiles

from .conftest import OPERATOR

B = 'b'
EngineB = tuple[OwnEngine, str, TlsFiles]


@pytest.fixture(scope='module')
def engine_b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineB]:
    with started_tls_engine(tmp_path_factory.mktemp('bh2-engine'), 'bthost2', address='172.31.248.1/24') as engine:
        yield engine


@pytest.fixture
async def two_hosts(tmp_path: Path, engine_b: EngineB) -> AsyncIterator[Services]:
    _, url, tls = engine_b
    running = build(
        Settings(data_dir=tmp_path / 'data', docker_host=None, endpoints=endpoints_setting(B, 'B', url, tls))
    )
    running.watchers.retry_seconds = 0.2
    await running.start()
    await eventually(lambda: all(running.state.host(endpoint).ok for endpoint in (LOCAL_ENDPOINT, B)))
    yield running
    await running.stop()


def bh2(what: str = 'x') -> str:
    return f'bh2-{what}-{uuid.uuid4().hex[:8]}'


async def finished(services: Services, job: Job, timeout: float = 60) -> Job:
    await eventually(
        lambda: services.jobs.jobs[job.job_id].status in (JobStatus.SUCCEEDED, JobStatus.FAILED),
        timeout=timeout,
        what=f'{job.kind} to finish',
    )
    return services.jobs.jobs[job.job_id]


def on_local(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(['docker', *arguments], capture_output=True, text=True)


async def test_pull_create_and_prune_run_on_the_host_asked_for(
    two_hosts: Services, engine_b: EngineB, absent: str
) -> None:
    engine, state = engine_b[0], two_hosts.state
    name = bh2('made')
    try:
        # When an operator pulls an image on B (the local engine does not have it either)
        pulled = await finished(two_hosts, await two_hosts.commands.pull_image(OPERATOR, absent, endpoint=B))
        assert (pulled.status, pulled.endpoint) == (JobStatus.SUCCEEDED, B), pulled.message
        # Then it is on B, in B's rows, and still not on the local engine
        await eventually(lambda: state.find_image(absent, B) is not None, what="the image in B's rows")
        assert state.find_image(absent, LOCAL_ENDPOINT) is None
        assert on_local('image', 'inspect', absent).returncode != 0
        engine.cli('image', 'inspect', absent)
        # When a container is created from it on B
        spec = ContainerSpec(image=absent, name=name, command=['sleep', '600'])
        made = await finished(two_hosts, await two_hosts.commands.create_container(OPERATOR, spec, endpoint=B))
        assert (made.status, made.endpoint) == (JobStatus.SUCCEEDED, B), made.message
        # Then it runs on B and the local engine has no such container
        assert json.loads(engine.cli('inspect', name))[0]['State']['Status'] == 'running'
        assert on_local('inspect', name).returncode != 0
        await eventually(lambda: state.find(name, B) is not None, what="the container in B's rows")
        # Given an image left dangling on B (its tag built again), and none of it on the local engine
        tag = f'{bh2("prune")}:1'
        for label in ('first', 'second'):
            engine.cli('build', '-q', '-t', tag, '-', input=f'FROM {BUSYBOX}\nLABEL bh2={label}\n'.encode())
        await eventually(lambda: any(row.dangling for row in state.images.values() if row.endpoint == B))
        dangling = [row.id for row in state.images.values() if row.endpoint == B and row.dangling]
        # When the operator prunes exactly those on B
        pruned = await finished(
            two_hosts, await two_hosts.commands.prune_images(OPERATOR, 'dangling', dangling, endpoint=B)
        )
        assert (pruned.status, pruned.endpoint) == (JobStatus.SUCCEEDED, B), pruned.message
        # Then they are gone from B
        await eventually(lambda: not any(state.image(image_id, B) for image_id in dangling), what='pruned on B')
        assert engine.cli('images', '-q', '--filter', 'dangling=true').strip() == ''
        engine.cli('rmi', tag)
    finally:
        subprocess.run(['docker', '-H', engine.url, 'rm', '-f', name], capture_output=True)
        subprocess.run(['docker', '-H', engine.url, 'rmi', '-f', absent], capture_output=True)


async def test_a_viewer_on_b_pulls_creates_prunes_removes_nothing_there(two_hosts: Services, engine_b: EngineB) -> None:
    # Given pat, an operator everywhere but a viewer on B
    pat = Identity(
        username='pat',
        role='operator',
        address='127.0.0.1',
        groups=('team',),
        endpoint_roles=EndpointRoles({B: {'viewer': ['team']}}).resolve('pat', 'operator', ('team',)),
    )
    state = two_hosts.state
    busybox_b = state.find_image(BUSYBOX, B)
    assert busybox_b is not None
    key = f'{B}/{busybox_b.id}'  # B's image in the live state
    commands = two_hosts.commands
    # When pat asks for each on B: refused, naming the host
    for attempt in (
        commands.pull_image(pat, BUSYBOX, endpoint=B),
        commands.create_container(pat, ContainerSpec(image=BUSYBOX, name=bh2('no')), endpoint=B),
        commands.prune_images(pat, 'unused', [busybox_b.id], endpoint=B),
        commands.remove_image(pat, key, force=True),
        commands.tag_image(pat, key, 'bh2-never:1'),
    ):
        with pytest.raises(Forbidden, match='pat is a viewer on host "b"'):
            await attempt
    # Then nothing was queued, B's busybox is as it was, and each refusal is audited with the host
    assert not two_hosts.jobs.jobs
    assert BUSYBOX in json.loads(engine_b[0].cli('image', 'inspect', BUSYBOX))[0]['RepoTags']
    refused = two_hosts.database.query(
        "SELECT action FROM audit WHERE username = 'pat' AND endpoint = ? AND result LIKE 'refused:%' ORDER BY id",
        (B,),
    )
    assert [row['action'] for row in refused] == [
        'image.pull',
        'container.create',
        'image.prune',
        'image.remove',
        'image.tag',
    ]


def tls_folders() -> set[Path]:
    return set(Path('/dev/shm').glob('berth-compose-tls-*')) | set(
        Path(tempfile.gettempdir()).glob('berth-compose-tls-*')
    )


async def test_a_stack_deploys_on_b_through_its_tls_and_b_shows_its_update_badge(
    two_hosts: Services, engine_b: EngineB, docker_client: docker.DockerClient, registry: LocalRegistry
) -> None:
    engine, commands = engine_b[0], two_hosts.commands
    name = bh2('stack')
    project = f'label=com.docker.compose.project={name}'
    moving = MovingTag(docker_client, registry, prefix='bh2')
    before = tls_folders()
    try:
        # Given an image in the registry, which neither engine has
        moving.push()
        files = StackFiles(compose=f'services:\n  web:\n    image: {moving.reference}\n    command: sleep 600\n')
        # When an operator deploys a new stack on B
        deployed = await finished(two_hosts, await commands.deploy_stack(OPERATOR, name, files, endpoint=B))
        assert (deployed.status, deployed.endpoint) == (JobStatus.SUCCEEDED, B), deployed.message
        # Then compose ran against B (over mutual TLS, the material gone afterwards) and nothing ran on local
        assert engine.cli('ps', '-q', '--filter', project).strip()
        assert not on_local('ps', '-aq', '--filter', project).stdout.strip()
        assert tls_folders() == before
        # and the stack belongs to B: listed on B with its container, not on local
        stacks = commands.stacks
        assert stacks is not None
        assert await asyncio.to_thread(stacks.endpoint, name) == B
        assert name in await asyncio.to_thread(stacks.overview, B)
        assert name not in await asyncio.to_thread(stacks.overview, LOCAL_ENDPOINT)
        await eventually(lambda: any(row.name == name and row.running for row in commands.stack_rows({}, B)))
        assert not any(row.name == name for row in commands.stack_rows({}, LOCAL_ENDPOINT))
        # A deploy of the same name asked on local is refused: the stack is B's
        with pytest.raises(CommandError, match=f'the stack {name} belongs to host "b"'):
            await commands.deploy_stack(OPERATOR, name, files)
        # When the registry's tag moves and B's images are checked
        moving.push(again=True)
        checked = await finished(two_hosts, await commands.check_updates(OPERATOR, B))
        assert checked.status == JobStatus.SUCCEEDED, checked.message
        # Then the stack's service on B carries the badge
        row = next(row for row in commands.stack_rows({}, B) if row.name == name)
        await eventually(lambda: service_rows(row, two_hosts.updates.available)[0]['update'] == 'update available')
        # When it is taken down on B
        down = await finished(two_hosts, await commands.stack_action(OPERATOR, name, StackAction.DOWN, endpoint=B))
        assert (down.status, down.endpoint) == (JobStatus.SUCCEEDED, B), down.message
        assert not engine.cli('ps', '-aq', '--filter', project).strip()
        await eventually(lambda: not any(row.containers for row in commands.stack_rows({}, B) if row.name == name))
    finally:
        for container in engine.cli('ps', '-aq', '--filter', project).split():
            subprocess.run(['docker', '-H', engine.url, 'rm', '-f', container], capture_output=True)
        subprocess.run(['docker', '-H', engine.url, 'network', 'rm', f'{name}_default'], capture_output=True)
        subprocess.run(['docker', '-H', engine.url, 'rmi', '-f', moving.reference], capture_output=True)
        moving.close()


async def test_an_engine_that_goes_silent_is_shown_unreachable_and_back(tmp_path: Path, engine_b: EngineB) -> None:
    # Given B reached through a TCP proxy (its TLS port behind it), watched with short pings
    _, url, tls = engine_b
    proxy = TcpProxy('127.0.0.1', int(url.rsplit(':', 1)[1])).start()
    setting = endpoints_setting(B, 'B', f'tcp://127.0.0.1:{proxy.port}', tls)
    running = build(Settings(data_dir=tmp_path / 'data', docker_host=None, endpoints=setting))
    running.watchers.retry_seconds = 0.2
    running.watchers.ping_seconds, running.watchers.ping_timeout = 0.5, 1
    await running.start()
    state = running.state
    try:
        await eventually(lambda: state.host(B).ok and state.host(LOCAL_ENDPOINT).ok, what='both hosts connected')
        # When the network silently drops everything (no reset, no close: the event stream just goes quiet)
        proxy.stall()
        # Then B is shown unreachable, saying why, while local stays connected
        await eventually(lambda: not state.host(B).ok, timeout=20, what='B shown unreachable')
        assert 'no answer to 2 pings in a row' in state.host(B).message
        assert state.host(LOCAL_ENDPOINT).ok
        # When the network answers again, B is connected and listed anew
        synced = state.host(B).synced_at
        proxy.resume()
        await eventually(lambda: state.host(B).ok and state.host(B).synced_at > synced, timeout=30, what='B back')
    finally:
        await running.stop()
        proxy.cut()
