"""Shared fixtures: a real Docker Engine, real Redis, and test containers that are always cleaned up."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import dramatiq
import pytest
import redis
from dramatiq.brokers.stub import StubBroker

from tests.support import BUSYBOX

pytest_plugins = ['nicegui.testing.user_plugin']

REDIS_URL = os.environ.get('BERTH_TEST_REDIS_URL', 'redis://127.0.0.1:6379/15')


@pytest.fixture(scope='session')
def docker_client() -> Iterator[docker.DockerClient]:
    client = docker.DockerClient(base_url='unix:///var/run/docker.sock', timeout=60)
    client.ping()  # the test environment script starts the engine; no engine is a failure, never a skip
    yield client
    client.close()


@pytest.fixture
def make_container(docker_client: docker.DockerClient) -> Iterator[Callable[..., str]]:
    """Creates busybox containers with the docker CLI (as a user outside Berth would); removes them afterwards."""
    created: list[str] = []

    def make(
        *,
        name: str | None = None,
        command: str = 'sleep 600',
        start: bool = True,
        labels: dict[str, str] | None = None,
        extra: list[str] | None = None,
    ) -> str:
        name = name or f'berth-test-{uuid.uuid4().hex[:10]}'
        arguments = ['docker', 'run', '-d'] if start else ['docker', 'create']
        for key, value in (labels or {}).items():
            arguments += ['--label', f'{key}={value}']
        arguments += ['--name', name, '--label', 'berth-test=1', *(extra or []), BUSYBOX, *command.split()]
        subprocess.run(arguments, check=True, capture_output=True, text=True)
        created.append(name)
        return name

    yield make
    for name in created:
        subprocess.run(['docker', 'rm', '-f', '-v', name], capture_output=True)


@pytest.fixture
def redis_url() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh BERTH_DATA_DIR with a known admin password, for tests that run main.py in-process."""
    path = tmp_path / 'data'
    monkeypatch.setenv('BERTH_DATA_DIR', str(path))
    monkeypatch.setenv('BERTH_ADMIN_PASSWORD', 'admin-test-password')
    monkeypatch.delenv('REDIS_URL', raising=False)
    return path


@pytest.fixture
def stub_broker() -> Iterator[StubBroker]:
    """A fresh in-memory broker for one test (as dramatiq's own ``stub_broker``); nothing is global."""
    broker = StubBroker()
    broker.emit_after('process_boot')
    yield broker
    broker.flush_all()
    broker.close()


@pytest.fixture
def stub_worker(stub_broker: StubBroker) -> Iterator[dramatiq.Worker]:
    """Worker threads on the test's broker (as dramatiq's own ``stub_worker``); stopped after the test."""
    worker = dramatiq.Worker(stub_broker, worker_timeout=100)
    worker.start()
    yield worker
    worker.stop()
