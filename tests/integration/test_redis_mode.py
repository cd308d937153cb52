"""Flow 2 with REDIS_URL: a real Redis broker, a real `dramatiq tasks` worker process, updates over pub/sub."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import docker
import pytest

from core.commands.spec import ContainerSpec
from core.jobs.seal import JobSigner
from core.settings import Settings
from system import Services, build
from tests.support import BUSYBOX
from tests.support.eventually import eventually
from tests.support.worker import dramatiq_worker

from .conftest import OPERATOR

LOST_AFTER = 12.0  # more than two heartbeats (core/operations/report.py): a live worker is never "lost"


@pytest.fixture
def worker(redis_url: str, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A worker sharing the panel's data dir (as the compose file shares its volume): it reads the panel's key."""
    with dramatiq_worker(REDIS_URL=redis_url, BERTH_DATA_DIR=str(tmp_path / 'data')) as process:
        yield process


@pytest.fixture
async def redis_services(tmp_path: Path, redis_url: str) -> AsyncIterator[Services]:
    running = build(Settings(data_dir=tmp_path / 'data', redis_url=redis_url, job_lost_after=LOST_AFTER))
    await running.start()
    await eventually(lambda: running.state.engine_ok, what='engine connected')
    yield running
    await running.stop()


async def test_action_runs_in_a_separate_worker_and_the_result_comes_back_over_redis(
    redis_services: Services,
    worker: subprocess.Popen[bytes],
    docker_client: docker.DockerClient,
    make_container: Callable[..., str],
) -> None:
    assert redis_services.bus.kind == 'redis' and redis_services.bus.health()[0]
    name = make_container()
    await eventually(lambda: redis_services.state.find(name) is not None, what='appears')
    row = redis_services.state.find(name)
    assert row is not None
    job = await redis_services.commands.container_action(OPERATOR, 'kill', row.id)
    await eventually(
        lambda: redis_services.jobs.jobs[job.job_id].status == 'succeeded',
        timeout=30,
        what='job succeeded via the worker process',
    )
    assert docker_client.api.inspect_container(name)['State']['Status'] == 'exited'


async def test_a_worker_killed_mid_job_does_not_leave_the_job_running(
    redis_services: Services, worker: subprocess.Popen[bytes], make_container: Callable[..., str]
) -> None:
    # Given a container that ignores SIGTERM, so a stop with a long timeout keeps the worker busy
    name = make_container(command='sleep 600')
    await eventually(lambda: redis_services.state.find(name) is not None, what='appears')
    row = redis_services.state.find(name)
    assert row is not None
    job = await redis_services.commands.container_action(OPERATOR, 'stop', row.id, {'timeout': 60})
    await eventually(lambda: redis_services.jobs.jobs[job.job_id].status == 'running', timeout=30, what='running')
    # (control: while the worker lives, its heartbeats keep the job running past the lost-contact limit)
    await asyncio.sleep(LOST_AFTER + 2)
    assert redis_services.jobs.jobs[job.job_id].status == 'running'
    # When the worker process is killed mid-job
    os.killpg(worker.pid, signal.SIGKILL)
    # Then the job ends as failed with a sentence instead of staying 'running' forever
    await eventually(lambda: redis_services.jobs.jobs[job.job_id].status == 'failed', timeout=30, what='marked lost')
    assert 'lost contact with the worker' in redis_services.jobs.jobs[job.job_id].message


async def test_redis_down_when_queueing_is_a_failed_job_not_a_crash(
    tmp_path: Path, make_container: Callable[..., str]
) -> None:
    running = build(Settings(data_dir=tmp_path / 'data', redis_url='redis://127.0.0.1:1/0'))
    await running.start()
    try:
        await eventually(lambda: running.state.engine_ok, what='engine connected')
        name = make_container()
        await eventually(lambda: running.state.find(name) is not None, what='appears')
        row = running.state.find(name)
        assert row is not None
        ok, message = running.bus.health()
        assert not ok and 'Redis unreachable' in message
        job = await running.commands.container_action(OPERATOR, 'stop', row.id)
        assert job.status == 'failed' and 'job queue unreachable' in job.message
    finally:
        await running.stop()


async def test_the_worker_runs_only_jobs_the_panel_signed_and_each_only_once(
    redis_services: Services,
    worker: subprocess.Popen[bytes],
    docker_client: docker.DockerClient,
    make_container: Callable[..., str],
    redis_url: str,
) -> None:
    # Given anyone who can write to Redis, asking for a privileged container in an admin's name
    name = f'berth-test-forged-{os.getpid()}'
    spec = ContainerSpec(
        image=BUSYBOX, name=name, command=['sleep', '60'], privileged=True, labels={'berth-test': '1'}
    ).to_dict()
    forged = {
        'job_id': 'f' * 32,
        'kind': 'container.create',
        'target': name,
        'target_name': name,
        'requested_by': 'admin',
        'role': 'admin',
    }
    other_key = JobSigner(b'not the panel key')
    # When they queue it unsigned, and signed with another key
    create_container = redis_services.actors.create_container
    create_container.send(forged, spec, {})
    create_container.send(other_key.sign({**forged, 'job_id': 'e' * 32}, (spec,), {}), spec, {})
    # Then both fail with a sentence, and no container was made
    await eventually(
        lambda: (
            {job_id: job.status for job_id, job in redis_services.jobs.jobs.items() if job_id in ('f' * 32, 'e' * 32)}
            == {'f' * 32: 'failed', 'e' * 32: 'failed'}
        ),
        timeout=30,
        what='both forged jobs refused',
    )
    assert 'no signature' in redis_services.jobs.jobs['f' * 32].message
    assert 'does not match' in redis_services.jobs.jobs['e' * 32].message
    assert not docker_client.containers.list(all=True, filters={'name': name})

    # Given a message the panel did sign: a kill, recorded on its way to Redis
    first, second = make_container(), make_container()
    await eventually(lambda: redis_services.state.find(first) and redis_services.state.find(second), what='appear')
    sent: list[tuple[object, ...]] = []
    original = redis_services.commands.senders['container.kill']
    redis_services.commands.senders['container.kill'] = lambda *message: (sent.append(message), original(*message))[1]
    row = redis_services.state.find(first)
    assert row is not None
    job = await redis_services.commands.container_action(OPERATOR, 'kill', row.id)
    await eventually(lambda: redis_services.jobs.jobs[job.job_id].status == 'succeeded', timeout=30, what='killed')
    docker_client.api.start(first)
    # When the same message is put on the queue again, followed by a fresh kill of another container
    redis_services.actors.container_action.send(*sent[0])
    other = redis_services.state.find(second)
    assert other is not None
    control = await redis_services.commands.container_action(OPERATOR, 'kill', other.id)
    await eventually(
        lambda: redis_services.jobs.jobs[control.job_id].status == 'succeeded', timeout=30, what='the control job ran'
    )
    await asyncio.sleep(1.0)
    # Then the replay did not run: the first container is still up, and its job kept its outcome
    assert docker_client.api.inspect_container(first)['State']['Status'] == 'running'
    assert redis_services.jobs.jobs[job.job_id].status == 'succeeded'
