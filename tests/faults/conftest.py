"""Fault tests: each hurts a service it owns — a redis-server, a Docker engine (bridge ``btflt0``), a worker or a panel
process of its own; never the host's engine nor the host's Redis. Docker objects are named ``bfl-…``."""

from __future__ import annotations

import contextlib
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import BUSYBOX
from tests.support.engine import OwnEngine, started_engine
from tests.support.panel import Panel
from tests.support.redis_server import OwnRedis, started_redis
from tests.support.worker import WorkerProcess

BRIDGE = 'btflt0'
BRIDGE_ADDRESS = '172.31.249.1/24'
LOST_AFTER = 12  # more than two heartbeats (core/operations/report.py): a live worker is never "lost"
PREFIX = 'bfl-'


@pytest.fixture(scope='package')
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnEngine]:
    """A Docker engine of the fault tests' own; a test that kills it starts it again before it ends."""
    root = tmp_path_factory.mktemp('engine')
    with started_engine(root, BRIDGE, address=BRIDGE_ADDRESS) as started:
        yield started
    subprocess.run(['umount', str(root / 'data')], capture_output=True)  # a restarted daemon leaves its bind mount


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    with started_redis(tmp_path / 'redis') as server:
        yield server


@pytest.fixture
def container(engine: OwnEngine) -> Iterator[Callable[..., tuple[str, str]]]:
    """Starts busybox containers on the test engine (``sleep`` as PID 1 ignores SIGTERM: a stop waits its timeout);
    returns (id, name); removes them afterwards."""
    names: list[str] = []

    def start(*command: str) -> tuple[str, str]:
        names.append(f'{PREFIX}{uuid.uuid4().hex[:8]}')
        arguments = ['run', '-d', '--name', names[-1], '--network', 'none', BUSYBOX, *(command or ('sleep', '600'))]
        return engine.cli(*arguments).strip(), names[-1]

    yield start
    for name in names:
        subprocess.run(['docker', '-H', engine.url, 'rm', '-f', name], capture_output=True)


@pytest.fixture
def redis_panel(engine: OwnEngine, own_redis: OwnRedis) -> Iterator[Panel]:
    """The panel on the test's Redis and engine (jobs lost after ``LOST_AFTER`` seconds of silence)."""
    panel = Panel(env={'REDIS_URL': own_redis.url, 'DOCKER_HOST': engine.url, 'BERTH_JOB_LOST_AFTER': str(LOST_AFTER)})
    panel.start(timeout=60)
    try:
        yield panel
    finally:
        panel.stop()


@pytest.fixture
def worker(engine: OwnEngine, own_redis: OwnRedis, redis_panel: Panel, tmp_path: Path) -> Iterator[WorkerProcess]:
    """`dramatiq tasks` sharing the panel's data dir (its key), as the compose file runs it; one thread."""
    with started_worker(engine, own_redis, redis_panel, tmp_path, threads=1) as process:
        yield process


@contextlib.contextmanager
def started_worker(
    engine: OwnEngine, own_redis: OwnRedis, panel: Panel, folder: Path, *, threads: int
) -> Iterator[WorkerProcess]:
    """`dramatiq tasks` on the test's engine and Redis, sharing ``panel``'s data dir; killed afterwards."""
    process = WorkerProcess(
        folder / 'worker.log',
        threads=threads,
        REDIS_URL=own_redis.url,
        DOCKER_HOST=engine.url,
        BERTH_DATA_DIR=str(panel.data_dir),
    )
    process.start()
    try:
        yield process
    finally:
        process.kill()


def engine_events(engine: OwnEngine, container_id: str, event: str, since: str) -> int:
    """How many ``event`` events the engine reported for the container since ``since`` (its clock, seconds)."""
    out = engine.cli(
        'events', '--since', since, '--until', '0s', '--filter', f'container={container_id}',
        '--filter', f'event={event}', '--format', '{{.Status}}',
    )  # fmt: skip
    return len(out.split())


def kill_engine(engine: OwnEngine) -> None:
    """SIGKILL to the engine (dockerd and its containerd): a crash. The killed containerd's pid file stays behind, and
    until the killed process is reaped its pid looks alive: the next dockerd would wait for it, then give up."""
    engine.kill()
    (engine.root / 'exec' / 'containerd' / 'containerd.pid').unlink(missing_ok=True)
    subprocess.run(['umount', str(engine.root / 'data')], capture_output=True)  # its own mount of the data root


@contextlib.contextmanager
def engine_back(engine: OwnEngine) -> Iterator[None]:
    """Whatever happens in the block, the engine runs after it (the containers of the test are removed through it)."""
    try:
        yield
    finally:
        if engine.process is None or engine.process.poll() is not None:
            engine.start()
