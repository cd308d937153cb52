"""Two Docker hosts: the host's own engine (``local``, A) and a second real engine (B) the test starts on a loopback
TCP port with mutual TLS, with a CA and client certificate the test makes (RECIPES: a second engine). The host's own
engine is never stopped; B is."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import redis

from core.docker.endpoint_spec import TlsMaterial
from core.docker.endpoint_store import ProbeFailed, probe
from core.docker.endpoints import Endpoint, EndpointSource
from core.endpoint_roles import EndpointRoles
from core.jobs.store import JobStatus
from core.permissions import LOCAL_ENDPOINT, Forbidden, Identity
from core.settings import Settings
from core.streams.exec_session import ExecRequest
from system import Services, build
from tests.support import BUSYBOX
from tests.support.engine import OwnEngine, started_tls_engine
from tests.support.engine import endpoints_setting as engine_endpoints
from tests.support.eventually import eventually
from tests.support.tls import TlsFiles, make_tls_files
from tests.support.worker import dramatiq_worker

from .conftest import OPERATOR

B = 'b'


@pytest.fixture(scope='module')
def engine_b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OwnEngine, str, TlsFiles]]:
    """Engine B: its own bridge, data root and socket, and TLS on 127.0.0.1:PORT requiring a client certificate."""
    with started_tls_engine(tmp_path_factory.mktemp('bho-engine'), 'bthost0', address='172.31.250.1/24') as engine:
        yield engine


def endpoints_setting(url: str, tls: TlsFiles) -> str:
    return engine_endpoints(B, 'Host B', url, tls)


@pytest.fixture
async def two_hosts(tmp_path: Path, engine_b: tuple[OwnEngine, str, TlsFiles]) -> AsyncIterator[Services]:
    _, url, tls = engine_b
    running = build(Settings(data_dir=tmp_path / 'data', docker_host=None, endpoints=endpoints_setting(url, tls)))
    running.watchers.retry_seconds = 0.2
    await running.start()
    await eventually(
        lambda: all(running.state.host(endpoint).ok for endpoint in (LOCAL_ENDPOINT, B)), what='both hosts connected'
    )
    yield running
    await running.stop()


@pytest.fixture
def on_b(engine_b: tuple[OwnEngine, str, TlsFiles]) -> Iterator[Callable[..., str]]:
    """Makes containers on B with its own CLI; removes them afterwards."""
    engine, _, _ = engine_b
    made: list[str] = []

    def make(command: str = 'sleep 600') -> str:
        name = f'bho-b-{uuid.uuid4().hex[:8]}'
        engine.cli('run', '-d', '--name', name, BUSYBOX, *command.split())
        made.append(name)
        return name

    yield make
    for name in made:
        subprocess.run(['docker', '-H', engine.url, 'rm', '-f', name], capture_output=True)


def bho() -> str:
    return f'bho-a-{uuid.uuid4().hex[:8]}'


async def test_the_connection_test_needs_the_right_certificates(
    engine_b: tuple[OwnEngine, str, TlsFiles], tmp_path: Path
) -> None:
    _, url, tls = engine_b
    endpoints = build(Settings(data_dir=tmp_path / 'data', endpoints=endpoints_setting(url, tls))).endpoints
    found = await asyncio.to_thread(probe, endpoints.get(B))
    assert found.api_version and found.engine_id
    # Without the client certificate the engine refuses the connection: a sentence, not a traceback
    with pytest.raises(ProbeFailed) as refused:
        await asyncio.to_thread(probe, Endpoint(id='x', name='x', url=url, insecure=True))
    assert str(refused.value).startswith(f'could not reach {url}:')
    # Certificates of another CA: the engine's certificate is not trusted
    other = make_tls_files(tmp_path / 'other', ca_name='another CA')
    stranger = json.loads(endpoints_setting(url, other))[0]
    stranger_endpoints = build(Settings(data_dir=tmp_path / 'data2', endpoints=json.dumps([stranger]))).endpoints.get(B)
    with pytest.raises(ProbeFailed, match='not signed by the CA given'):
        await asyncio.to_thread(probe, stranger_endpoints)


async def test_containers_of_both_hosts_appear_each_with_its_host_and_an_action_on_b_runs_on_b(
    two_hosts: Services, on_b: Callable[..., str], make_container: Callable[..., str], engine_b: tuple[OwnEngine, ...]
) -> None:
    engine = engine_b[0]
    assert isinstance(engine, OwnEngine)
    # Given a container on each host, with the same name
    name = bho()
    on_a = make_container(name=name)
    subprocess.run(['docker', '-H', engine.url, 'run', '-d', '--name', name, BUSYBOX, 'sleep', '600'], check=True)
    try:
        state = two_hosts.state
        await eventually(lambda: state.find(name, B) is not None and state.find(on_a, LOCAL_ENDPOINT) is not None)
        row_a, row_b = state.find(name, LOCAL_ENDPOINT), state.find(name, B)
        assert row_a is not None and row_b is not None
        # Then each carries its host, and the ids differ
        assert (row_a.endpoint, row_b.endpoint) == (LOCAL_ENDPOINT, B) and row_a.id != row_b.id
        assert row_b.scope.endpoint == B
        # When an operator stops the one on B
        job = await two_hosts.commands.container_action(OPERATOR, 'stop', row_b.id, {'timeout': 0})
        assert job.endpoint == B
        await eventually(lambda: two_hosts.jobs.jobs[job.job_id].status == JobStatus.SUCCEEDED, timeout=30)
        # Then it stopped on B, and A's of the same name still runs
        assert json.loads(engine.cli('inspect', name))[0]['State']['Status'] == 'exited'
        assert (
            subprocess.run(
                ['docker', 'inspect', '-f', '{{.State.Status}}', name], capture_output=True, text=True
            ).stdout.strip()
            == 'running'
        )
        await eventually(lambda: (row := state.find(name, B)) is not None and row.state == 'exited', what='B event')
    finally:
        subprocess.run(['docker', '-H', engine.url, 'rm', '-f', name], capture_output=True)


async def test_a_terminal_into_a_container_on_b(two_hosts: Services, on_b: Callable[..., str]) -> None:
    name = on_b()
    await eventually(lambda: two_hosts.state.find(name, B) is not None)
    row = two_hosts.state.find(name, B)
    assert row is not None
    screen: list[str] = []
    session = two_hosts.terminals.session(
        ExecRequest(container_id=row.id),
        loop=asyncio.get_running_loop(),
        on_output=screen.append,
        on_exit=lambda code: None,
        endpoint=B,
    )
    await asyncio.to_thread(session.open, 24, 80)
    try:
        session.write('ip -4 addr show eth0 | grep -o "inet 172.31.250"; echo done-$((6*7))\n')
        await eventually(lambda: 'done-42' in ''.join(screen), what='the shell answers')
        assert 'inet 172.31.250' in ''.join(screen)  # B's own bridge: the shell runs on B
    finally:
        await asyncio.to_thread(session.close)


async def test_b_stopped_shows_unreachable_while_a_events_still_arrive_then_b_back_resyncs(
    two_hosts: Services,
    engine_b: tuple[OwnEngine, str, TlsFiles],
    make_container: Callable[..., str],
    on_b: Callable[..., str],
) -> None:
    engine = engine_b[0]
    state = two_hosts.state
    before = on_b()
    await eventually(lambda: state.find(before, B) is not None)
    synced = state.host(B).synced_at
    # When B stops
    engine.stop()
    try:
        await eventually(lambda: not state.host(B).ok, timeout=30, what='B marked unreachable')
        assert 'unreachable' in state.host(B).message and 'retrying' in state.host(B).message
        # Then A is still connected and its events still arrive
        assert state.host(LOCAL_ENDPOINT).ok
        name = make_container(name=bho())
        await eventually(lambda: state.find(name, LOCAL_ENDPOINT) is not None, what="A's new container")
    finally:
        # When B comes back
        engine.start()
    await eventually(lambda: state.host(B).ok and state.host(B).synced_at > synced, timeout=30, what='B resynced')
    # Then B's rows are B's again (the engine stopped its container meanwhile) and new events flow
    await eventually(lambda: (row := state.find(before, B)) is not None and row.state == 'exited')
    after = on_b()
    await eventually(lambda: state.find(after, B) is not None, what="B's new container")


async def test_a_worker_for_b_runs_only_b_jobs(
    tmp_path: Path,
    redis_url: str,
    engine_b: tuple[OwnEngine, str, TlsFiles],
    make_container: Callable[..., str],
    on_b: Callable[..., str],
) -> None:
    engine, url, tls = engine_b
    setting = endpoints_setting(url, tls)
    panel = build(Settings(data_dir=tmp_path / 'data', redis_url=redis_url, secret_key='bho-shared', endpoints=setting))
    await panel.start()
    try:
        await eventually(lambda: panel.state.host(LOCAL_ENDPOINT).ok and panel.state.host(B).ok)
        name_a, name_b = make_container(name=bho()), on_b()
        await eventually(
            lambda: panel.state.find(name_a, LOCAL_ENDPOINT) is not None and panel.state.find(name_b, B) is not None
        )
        row_a, row_b = panel.state.find(name_a, LOCAL_ENDPOINT), panel.state.find(name_b, B)
        assert row_a is not None and row_b is not None
        with dramatiq_worker(
            REDIS_URL=redis_url,
            BERTH_DATA_DIR=str(tmp_path / 'worker'),
            BERTH_SECRET_KEY='bho-shared',
            BERTH_ENDPOINTS=setting,
            BERTH_WORKER_ENDPOINTS=B,
        ):
            # When a job for A is queued first, then one for B
            job_a = await panel.commands.container_action(OPERATOR, 'kill', row_a.id)
            job_b = await panel.commands.container_action(OPERATOR, 'kill', row_b.id)
            # Then B's worker runs B's job
            await eventually(lambda: panel.jobs.jobs[job_b.job_id].status == JobStatus.SUCCEEDED, timeout=60)
            assert json.loads(engine.cli('inspect', name_b))[0]['State']['Status'] == 'exited'
            # ... and leaves A's on A's queue, untouched
            assert panel.jobs.jobs[job_a.job_id].status == JobStatus.QUEUED
            assert redis.Redis.from_url(redis_url).llen('berth:berth') == 1
            assert (
                subprocess.run(
                    ['docker', 'inspect', '-f', '{{.State.Status}}', name_a], capture_output=True, text=True
                ).stdout.strip()
                == 'running'
            )
    finally:
        await panel.stop()


async def test_operator_on_a_viewer_on_b_is_refused_on_b_and_the_refusals_are_audited(
    two_hosts: Services, on_b: Callable[..., str], make_container: Callable[..., str], engine_b: tuple[OwnEngine, ...]
) -> None:
    engine = engine_b[0]
    assert isinstance(engine, OwnEngine)
    # Given pat, an operator whose group is only a viewer on B
    roles = EndpointRoles({B: {'viewer': ['team']}})
    pat = Identity(
        username='pat',
        role='operator',
        address='127.0.0.1',
        groups=('team',),
        endpoint_roles=roles.resolve('pat', 'operator', ('team',)),
    )
    name_a, name_b = make_container(name=bho()), on_b()
    state = two_hosts.state
    await eventually(lambda: state.find(name_a, LOCAL_ENDPOINT) is not None and state.find(name_b, B) is not None)
    row_a, row_b = state.find(name_a, LOCAL_ENDPOINT), state.find(name_b, B)
    assert row_a is not None and row_b is not None
    # When pat acts on B, by every kind of job: refused with a sentence naming the host
    refusal = 'pat is a viewer on host "b": stop containers needs the operator role'
    with pytest.raises(Forbidden, match=refusal):
        await two_hosts.commands.container_action(pat, 'stop', row_b.id)
    with pytest.raises(Forbidden, match='on host "b"'):
        await two_hosts.commands.create_volume(pat, 'bho-volume', endpoint=B)
    with pytest.raises(Forbidden, match='on host "b"'):
        await two_hosts.commands.create_network(pat, 'bho-network', endpoint=B)
    assert json.loads(engine.cli('inspect', name_b))[0]['State']['Status'] == 'running'
    # while on A the same person acts, and the job carries the role pat has there
    job = await two_hosts.commands.container_action(pat, 'kill', row_a.id)
    await eventually(lambda: two_hosts.jobs.jobs[job.job_id].status == JobStatus.SUCCEEDED, timeout=30)
    # Then the refusals are in the audit log, with the host
    refused = two_hosts.database.query(
        "SELECT action, result FROM audit WHERE username = 'pat' AND endpoint = ? ORDER BY id", (B,)
    )
    assert [row['action'] for row in refused] == ['container.stop', 'volume.create', 'network.create']
    assert all(row['result'].startswith('refused: pat is a viewer on host "b"') for row in refused)


async def test_a_running_worker_serves_a_host_an_admin_adds_in_the_page(
    tmp_path: Path,
    redis_url: str,
    engine_b: tuple[OwnEngine, str, TlsFiles],
    make_container: Callable[..., str],
) -> None:
    engine, url, tls = engine_b
    data = tmp_path / 'data'
    # Given a panel that knows only local, and a central worker sharing its database and key (no BERTH_ENDPOINTS)
    panel = build(Settings(data_dir=data, redis_url=redis_url, secret_key='bho-shared', endpoints=''))
    name_b = f'berth-h3-b-{uuid.uuid4().hex[:8]}'
    await panel.start()
    try:
        name_a = make_container(name=f'berth-h3-a-{uuid.uuid4().hex[:8]}')
        await eventually(lambda: panel.state.find(name_a, LOCAL_ENDPOINT) is not None)
        row_a = panel.state.find(name_a, LOCAL_ENDPOINT)
        assert row_a is not None
        with dramatiq_worker(
            REDIS_URL=redis_url,
            BERTH_SECRET_KEY='bho-shared',
            BERTH_DATA_DIR=str(data),
            BERTH_ENDPOINTS='',
            BERTH_WORKER_ENDPOINTS='',
        ):
            job_a = await panel.commands.container_action(OPERATOR, 'kill', row_a.id)
            await eventually(lambda: panel.jobs.jobs[job_a.job_id].status == JobStatus.SUCCEEDED, timeout=60)
            # When an admin adds B in /admin/endpoints (stored sealed) while the worker runs
            pem = [path.read_text() for path in (tls.ca, tls.client_cert, tls.client_key)]
            material = TlsMaterial(ca=pem[0], cert=pem[1], key=pem[2])
            host_b = Endpoint(id=B, name='Host B', url=url, tls=material, source=EndpointSource.STORED)
            await asyncio.to_thread(panel.stored_endpoints.save, host_b, 'ada')
            await asyncio.to_thread(panel.endpoints.put, host_b)
            engine.cli('run', '-d', '--name', name_b, BUSYBOX, 'sleep', '600')
            await eventually(lambda: panel.state.find(name_b, B) is not None, timeout=30, what="B's container")
            row_b = panel.state.find(name_b, B)
            assert row_b is not None
            job_b = await panel.commands.container_action(OPERATOR, 'kill', row_b.id)
            # Then the same worker, never restarted, runs B's job on B
            await eventually(lambda: panel.jobs.jobs[job_b.job_id].status == JobStatus.SUCCEEDED, timeout=60)
            assert json.loads(engine.cli('inspect', name_b))[0]['State']['Status'] == 'exited'
    finally:
        subprocess.run(['docker', '-H', engine.url, 'rm', '-f', name_b], capture_output=True)
        await panel.stop()
