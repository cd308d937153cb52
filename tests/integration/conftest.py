"""Integration fixtures: the real services object (watcher, bus, broker, worker) against the real engine, and a real
image registry for the image tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import docker
import pytest

from core.permissions import Identity
from core.settings import Settings
from system import Services, build
from tests.support.eventually import eventually
from tests.support.registry import (
    REPOSITORY,
    LocalRegistry,
    build_layered_image,
    forget_locally,
    push_and_forget,
    require_insecure_loopback,
)

OPERATOR = Identity(username='olga', role='operator', address='127.0.0.1')
VIEWER = Identity(username='victor', role='viewer', address='127.0.0.1')


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    """Embedded default: in-memory broker and worker threads in this process."""
    running = build(Settings(data_dir=tmp_path / 'data', redis_url=None, docker_host=None))
    await running.start()
    await eventually(lambda: running.state.engine_ok and running.state.synced_at > 0, what='first resync')
    yield running
    await running.stop()


@pytest.fixture(scope='session')
def registry(docker_client: docker.DockerClient) -> Iterator[LocalRegistry]:
    require_insecure_loopback(docker_client)
    with LocalRegistry() as running:
        yield running


@pytest.fixture(scope='session')
def pushed_image(docker_client: docker.DockerClient, registry: LocalRegistry) -> str:
    """'127.0.0.1:PORT/berth-test/pull:TAG': busybox plus three layers (2, 3 and 4 MB) this engine does not have."""
    local = f'berth-test/pull-build:{uuid.uuid4().hex[:8]}'
    build_layered_image(docker_client, local, [2, 3, 4])
    return push_and_forget(docker_client, local, registry.address, f'{REPOSITORY}:{uuid.uuid4().hex[:8]}')


@pytest.fixture
def absent(pushed_image: str) -> Iterator[str]:
    """The pushed image, not present locally before the test nor after it."""
    forget_locally(pushed_image)
    yield pushed_image
    forget_locally(pushed_image)
