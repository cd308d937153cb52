"""Flow 2 with REDIS_URL: a real Redis broker, a real `dramatiq tasks` worker process, updates over pub/sub."""
from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import docker
import pytest

from core.services import Services, build
from core.settings import Settings

from .conftest import OPERATOR, dramatiq_worker, eventually


@pytest.fixture
def worker(redis_url: str) -> Iterator[subprocess.Popen[bytes]]:
    with dramatiq_worker(REDIS_URL=redis_url) as process:
        yield process


@pytest.fixture
async def redis_services(tmp_path: Path, redis_url: str) -> AsyncIterator[Services]:
    running = build(Settings(data_dir=tmp_path / 'data', redis_url=redis_url, job_lost_after=4))
    await running.start()
    await eventually(lambda: running.state.engine_ok, what='engine connected')
    yield running
    await running.stop()
    import tasks
    tasks.broker.ensure(None)


async def test_action_runs_in_a_separate_worker_and_the_result_comes_back_over_redis(
        redis_services: Services, worker: subprocess.Popen[bytes], docker_client: docker.DockerClient,
        make_container: Callable[..., str]) -> None:
    assert redis_services.bus.kind == 'redis' and redis_services.bus.health()[0]
    name = make_container()
    await eventually(lambda: redis_services.state.find(name) is not None, what='appears')
    row = redis_services.state.find(name)
    assert row is not None
    job = await redis_services.commands.container_action(OPERATOR, 'kill', row.id)
    await eventually(lambda: redis_services.jobs.jobs[job.job_id].status == 'succeeded', timeout=30,
                     what='job succeeded via the worker process')
    assert docker_client.api.inspect_container(name)['State']['Status'] == 'exited'


async def test_a_worker_killed_mid_job_does_not_leave_the_job_running(
        redis_services: Services, worker: subprocess.Popen[bytes], make_container: Callable[..., str]) -> None:
    # Given a container that ignores SIGTERM, so a stop with a long timeout keeps the worker busy
    name = make_container(command='sleep 600')
    await eventually(lambda: redis_services.state.find(name) is not None, what='appears')
    row = redis_services.state.find(name)
    assert row is not None
    job = await redis_services.commands.container_action(OPERATOR, 'stop', row.id, {'timeout': 60})
    await eventually(lambda: redis_services.jobs.jobs[job.job_id].status == 'running', timeout=30, what='running')
    # When the worker process is killed mid-job
    os.killpg(worker.pid, signal.SIGKILL)
    # Then the job ends as failed with a sentence instead of staying 'running' forever
    await eventually(lambda: redis_services.jobs.jobs[job.job_id].status == 'failed', timeout=30, what='marked lost')
    assert 'lost contact with the worker' in redis_services.jobs.jobs[job.job_id].message


async def test_redis_down_when_queueing_is_a_failed_job_not_a_crash(tmp_path: Path,
                                                                    make_container: Callable[..., str]) -> None:
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
        import tasks
        tasks.broker.ensure(None)
