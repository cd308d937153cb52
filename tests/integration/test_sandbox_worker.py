"""Sandbox runs with REDIS_URL: a real Redis broker and real `dramatiq tasks` worker processes. A worker killed
mid-run leaves its container behind only until the next worker's janitor finds it past its deadline (at start and
then periodically), and the run's slot in the line is given back once the panel has lost contact with it."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.permissions import Identity
from core.sandbox.runs import RunPhase
from core.sandbox.runtimes import Runtime
from core.settings import Settings
from system import Services, build
from tests.support import BUSYBOX
from tests.support.eventually import eventually
from tests.support.worker import dramatiq_worker

LOST_AFTER = 12.0  # more than two heartbeats: a live worker is never "lost"
DANA = Identity(username='dana', role='developer', address='127.0.0.1')


def sandbox_containers() -> list[str]:
    return subprocess.run(
        ['docker', 'ps', '-aq', '--filter', 'label=berth.sandbox=1'], capture_output=True, text=True, check=True
    ).stdout.split()


@pytest.fixture
async def redis_services(tmp_path: Path, redis_url: str) -> AsyncIterator[Services]:
    settings = Settings(data_dir=tmp_path / 'data', redis_url=redis_url, job_lost_after=LOST_AFTER, sandbox_per_user=1)
    running = build(settings)
    runtime = {'name': 'bt-sh', 'image': BUSYBOX, 'command': 'sh /sandbox/main.sh', 'filename': 'main.sh'}
    running.sandbox.runtimes.save(Runtime.from_mapping({**runtime, 'limits': {'timeout': 3}}), by='test')
    await running.start()
    await eventually(lambda: running.state.engine_ok, what='engine connected')
    yield running
    await running.stop()
    left = sandbox_containers()
    subprocess.run(['docker', 'rm', '-f', *left], capture_output=True)
    assert not left, f'sandbox containers left behind: {left}'


async def test_a_worker_killed_mid_run_leaves_nothing_behind_and_gives_its_slot_back(
    redis_services: Services, redis_url: str, tmp_path: Path
) -> None:
    environment = {'REDIS_URL': redis_url, 'BERTH_DATA_DIR': str(tmp_path / 'data'), 'BERTH_SANDBOX_SWEEP_SECONDS': '1'}
    runs = redis_services.sandbox.runs
    # Given a run under way in a worker process (its output reaches the panel over Redis)
    with dramatiq_worker(**environment) as worker:
        job = await redis_services.commands.run_script(DANA, runtime='bt-sh', script='echo started; sleep 600')
        await eventually(lambda: 'started' in runs.live[job.job_id].output.text(), 30, what='the run to start')
        assert len(sandbox_containers()) == 1
        # When the worker is killed mid-run
        os.killpg(worker.pid, signal.SIGKILL)
    # Then its container outlives it for now, and a second run of the same person waits in line
    assert len(sandbox_containers()) == 1
    second = await redis_services.commands.run_script(DANA, runtime='bt-sh', script='echo second')
    assert redis_services.sandbox.line.position(second.job_id) == 1
    # When the next worker starts, its janitor removes the container once its deadline has passed
    with dramatiq_worker(**environment):
        await eventually(lambda: sandbox_containers() == [], 60, what='the janitor to remove the container')
        # And once the panel has lost contact with the first run, its slot goes to the second, which runs
        await eventually(lambda: runs.live[job.job_id].phase == RunPhase.FINISHED, 60, what='the run marked lost')
        assert 'lost contact with the worker' in runs.live[job.job_id].message
        await eventually(lambda: runs.live[second.job_id].phase == RunPhase.FINISHED, 60, what='the second run')
        assert runs.live[second.job_id].output.text() == 'second\n'
