"""One-command self-hosting: Berth's own image and compose file, built and run for real on the local engine."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support import PROJECT_ROOT, free_port
from tests.support.eventually import eventually_sync

from .conftest import run

pytestmark = pytest.mark.heavy

BERTH_UID = 10001  # the user `berth` of the Dockerfile


def healthz(port: int) -> dict[str, Any] | None:
    """The panel's /healthz, or None while it does not answer yet."""
    try:
        with urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=3) as response:
            return json.loads(response.read())
    except OSError:
        return None


def wait_for_health(
    port: int, ready: Callable[[dict[str, Any]], bool], *, timeout: float, logs: Callable[[], str]
) -> dict[str, Any]:
    health: dict[str, Any] | None = None

    def answers_ready() -> bool:
        nonlocal health
        health = healthz(port)
        return health is not None and ready(health)

    eventually_sync(
        answers_ready,
        timeout,
        lambda: f'/healthz ready; last answer: {health}\n--- logs ---\n{logs()[-6000:]}',
        interval=0.5,
    )
    assert health is not None
    return health


def host_container_count() -> int:
    return len(run(['docker', 'ps', '--all', '--quiet', '--no-trunc'], timeout=30).split())


def docker_ok(health: dict[str, Any]) -> bool:
    return bool(health['docker']['ok'])


@pytest.fixture
def panel_container(berth_image: str) -> Iterator[tuple[str, int]]:
    """The image run as the docs say, socket mounted; removed afterwards with its anonymous /data volume."""
    name, port = f'berth-heavy-{uuid.uuid4().hex[:8]}', free_port()
    run(
        [
            'docker',
            'run',
            '--detach',
            '--name',
            name,
            '--volume',
            '/var/run/docker.sock:/var/run/docker.sock',
            '--publish',
            f'127.0.0.1:{port}:8080',
            '--env',
            'BERTH_ADMIN_PASSWORD=heavy-test-password',
            berth_image,
        ],
        timeout=60,
    )
    yield name, port
    subprocess.run(['docker', 'rm', '--force', '--volumes', name], check=False, capture_output=True, timeout=60)


def test_image_serves_the_panel_as_berth_and_follows_the_engine(
    panel_container: tuple[str, int], make_container: Callable[..., str]
) -> None:
    # Given the image started with only the Docker socket mounted
    name, port = panel_container

    def logs() -> str:
        return run(['docker', 'logs', name], timeout=30, stderr=subprocess.STDOUT)

    health = wait_for_health(port, docker_ok, timeout=60, logs=logs)
    assert (health['broker']['ok'], health['broker']['kind']) == (True, 'embedded'), health

    # Then the panel runs as `berth`, not root, and keeps its data on the volume
    status = run(['docker', 'exec', name, 'cat', '/proc/1/status'], timeout=30)
    assert f'Uid:\t{BERTH_UID}\t{BERTH_UID}' in status, status
    run(['docker', 'exec', '--user', 'berth', name, 'test', '-O', '/data/berth.sqlite3'], timeout=30)
    # and the image's own HEALTHCHECK command passes (not waiting out its 30 s interval)
    check = json.loads(run(['docker', 'inspect', '--format', '{{json .Config.Healthcheck.Test}}', name], timeout=30))
    assert check[0] == 'CMD'
    run(['docker', 'exec', name, *check[1:]], timeout=30)

    # When a container is created with the host's docker CLI, outside Berth
    before = health['containers']
    make_container(start=False, command='true')

    # Then the panel's state has it within seconds: one more than before, as many as the engine has
    def counted(health: dict[str, Any]) -> bool:
        return health['containers'] >= before + 1 and health['containers'] == host_container_count()

    wait_for_health(port, counted, timeout=10, logs=logs)


@pytest.fixture
def compose_project(
    compose_command: list[str], berth_image: str, redis_image: str, python_base_image: str
) -> Iterator[tuple[Callable[..., str], int]]:
    """docker-compose.yml from the repository under a unique project name; `down -v` removes all it made."""
    port = free_port()
    environment = {
        **os.environ,
        'COMPOSE_PROJECT_NAME': f'berth-heavy-{uuid.uuid4().hex[:8]}',
        'BERTH_PORT': str(port),
        'BERTH_BIND': '127.0.0.1',
        'BERTH_IMAGE': berth_image,
        'BERTH_BASE_IMAGE': python_base_image,
        'BERTH_REDIS_IMAGE': redis_image,
        'BERTH_ADMIN_PASSWORD': 'heavy-test-password',
    }

    def compose(*arguments: str, timeout: float = 120) -> str:
        return run(
            [
                *compose_command,
                '--project-directory',
                str(PROJECT_ROOT),
                '--file',
                str(PROJECT_ROOT / 'docker-compose.yml'),
                *arguments,
            ],
            timeout=timeout,
            env=environment,
        )

    yield compose, port
    compose('down', '--volumes', '--remove-orphans', '--timeout', '10')


def test_compose_file_starts_panel_worker_and_redis(compose_project: tuple[Callable[..., str], int]) -> None:
    compose, port = compose_project

    def logs() -> str:
        return compose('logs', '--no-color', '--tail', '100')

    # Given the compose file, valid for this compose version
    compose('config', '--quiet')

    # When it is brought up the way the docs say (the build reuses the cached layers of the image test)
    compose('up', '--detach', '--build', timeout=600)

    # Then the panel reaches the engine and queues its jobs in the compose file's Redis
    health = wait_for_health(port, lambda health: docker_ok(health) and health['broker']['ok'], timeout=90, logs=logs)
    assert health['broker']['kind'] == 'redis', health
    # with the append-only file on, so jobs still queued when Redis restarts are not lost
    assert 'yes' in compose('exec', '-T', 'redis', 'redis-cli', 'config', 'get', 'appendonly').split()

    # and the worker is up and has not restarted (it imported the actors and reached Redis)
    worker = compose('ps', '--quiet', 'worker').split()
    assert len(worker) == 1, logs()
    time.sleep(3)
    container = json.loads(run(['docker', 'inspect', '--format', '{{json .}}', worker[0]], timeout=30))
    assert container['State']['Running'] and container['RestartCount'] == 0, f'{container["State"]}\n{logs()}'
    # and it reads the panel's key from the shared volume, to check the signature of every job it is given
    compose(
        'exec',
        '-T',
        'worker',
        'python3',
        '-c',
        'from core.storage.credentials import SecretBox; from core.settings import '
        'Settings; assert SecretBox.from_settings(Settings(), create=False) is not None',
    )
    # and Berth's own containers and volumes carry the label that keeps them from non-admins
    panel = compose('ps', '--quiet', 'panel').split()[0]
    redis_container = compose('ps', '--quiet', 'redis').split()[0]
    inspected = json.loads(run(['docker', 'inspect', panel, worker[0], redis_container], timeout=30))
    assert all(item['Config']['Labels'].get('berth.protected') == 'true' for item in inspected)
    volumes = [mount['Name'] for mount in inspected[0]['Mounts'] if mount['Type'] == 'volume']
    assert volumes and all(
        json.loads(run(['docker', 'volume', 'inspect', volume], timeout=30))[0]['Labels'].get('berth.protected')
        == 'true'
        for volume in volumes
    )
