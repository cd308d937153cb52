"""The daemon goes away and comes back: the panel says so, then resyncs by itself."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from core.services import Services, build
from core.settings import Settings

from .conftest import eventually
from .socket_proxy import SocketProxy


@pytest.fixture
async def proxied(tmp_path: Path) -> AsyncIterator[tuple[Services, SocketProxy]]:
    proxy = SocketProxy(str(tmp_path / 'docker.sock'))
    proxy.start()
    running = build(Settings(data_dir=tmp_path / 'data', docker_host=proxy.url))
    running.watcher.retry_seconds = 0.2
    await running.start()
    await eventually(lambda: running.state.engine_ok, what='connected through the proxy')
    yield running, proxy
    await running.stop()
    proxy.cut()


async def test_socket_gone_then_back_resyncs_what_changed_meanwhile(
        proxied: tuple[Services, SocketProxy], make_container: Callable[..., str]) -> None:
    services, proxy = proxied
    # Given a container the panel knows about
    old = make_container()
    await eventually(lambda: services.state.find(old) is not None, what='old container known')
    # When the socket goes away
    proxy.cut()
    await eventually(lambda: not services.state.engine_ok, what='engine marked unreachable')
    assert 'unreachable' in services.state.engine_message and 'retrying' in services.state.engine_message
    # ... and the host changes while the panel cannot see it
    subprocess.run(['docker', 'rm', '-f', old], check=True, capture_output=True)
    new = make_container()
    # Then when the socket returns, the full resync brings the state up to date by itself
    proxy.start()
    await eventually(lambda: services.state.engine_ok, what='reconnected')
    await eventually(lambda: services.state.find(new) is not None and services.state.find(old) is None,
                     what='resynced: new container present, removed one gone')


def _dockerd_pid() -> int:
    return int(subprocess.run(['pidof', 'dockerd'], check=True, capture_output=True, text=True).stdout.split()[0])


def _start_dockerd() -> None:
    with open('/tmp/dockerd.log', 'ab') as log:
        subprocess.Popen(['dockerd'], stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + 60
    while subprocess.run(['docker', 'version'], capture_output=True).returncode != 0:
        if time.monotonic() > deadline:
            raise AssertionError('dockerd did not come back')
        time.sleep(0.25)


async def test_daemon_restart_is_survived(services: Services, make_container: Callable[..., str]) -> None:
    # Given a running panel that knows a container
    before = make_container()
    await eventually(lambda: services.state.find(before) is not None, what='known before restart')
    # When the Docker daemon is stopped
    pid = _dockerd_pid()
    os.kill(pid, signal.SIGTERM)
    try:
        await eventually(lambda: not services.state.engine_ok, timeout=30, what='engine marked unreachable')
    finally:
        deadline = time.monotonic() + 30
        while os.path.exists(f'/proc/{pid}') and time.monotonic() < deadline:
            time.sleep(0.2)
        # Then it comes back, and the panel resyncs by itself
        _start_dockerd()
    await eventually(lambda: services.state.engine_ok, timeout=30, what='reconnected after restart')
    after = make_container()
    await eventually(lambda: services.state.find(after) is not None, what='new container after restart')
    row = services.state.find(before)
    assert row is not None and row.state == 'exited'  # the restart stopped it; the resync saw that
