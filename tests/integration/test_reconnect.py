"""The daemon goes away and comes back: the panel says so, then resyncs by itself.

The daemon that is stopped is one this test starts itself (RECIPES: a second engine); the host's own engine is
never stopped or restarted by a test."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from core.settings import Settings
from system import Services, build
from tests.support import BUSYBOX
from tests.support.engine import OwnEngine, started_engine
from tests.support.eventually import eventually
from tests.support.socket_proxy import SocketProxy


@pytest.fixture
async def proxied(tmp_path: Path) -> AsyncIterator[tuple[Services, SocketProxy]]:
    proxy = SocketProxy(str(tmp_path / 'docker.sock'))
    proxy.start()
    running = build(Settings(data_dir=tmp_path / 'data', docker_host=proxy.url))
    running.watchers.retry_seconds = 0.2
    await running.start()
    await eventually(lambda: running.state.engine_ok, what='connected through the proxy')
    yield running, proxy
    await running.stop()
    proxy.cut()


async def test_socket_gone_then_back_resyncs_what_changed_meanwhile(
    proxied: tuple[Services, SocketProxy], make_container: Callable[..., str]
) -> None:
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
    await eventually(
        lambda: services.state.find(new) is not None and services.state.find(old) is None,
        what='resynced: new container present, removed one gone',
    )


@pytest.fixture
def own_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnEngine]:
    """A second Docker Engine of this test's own (own bridge, data root, exec root, socket), never the host's."""
    with started_engine(tmp_path_factory.mktemp('engine')) as engine:
        yield engine


async def test_daemon_restart_is_survived(own_engine: OwnEngine, tmp_path: Path) -> None:
    # Given a running panel on an engine of the test's own that knows a container
    services = build(Settings(data_dir=tmp_path / 'data', docker_host=own_engine.url))
    services.watchers.retry_seconds = 0.2
    await services.start()
    try:
        await eventually(lambda: services.state.engine_ok and services.state.synced_at > 0, what='first resync')
        before = own_engine.cli('run', '-d', '--name', 'before', '--network', 'none', BUSYBOX, 'sleep', '600').strip()
        await eventually(lambda: services.state.find('before') is not None, what='known before restart')
        # When that Docker daemon is stopped
        own_engine.stop()
        await eventually(lambda: not services.state.engine_ok, timeout=30, what='engine marked unreachable')
        # Then it comes back, and the panel resyncs by itself
        own_engine.start()
        await eventually(lambda: services.state.engine_ok, timeout=30, what='reconnected after restart')
        own_engine.cli('run', '-d', '--name', 'after', '--network', 'none', BUSYBOX, 'sleep', '600')
        await eventually(lambda: services.state.find('after') is not None, what='new container after restart')
        row = services.state.find(before)
        assert row is not None and row.state == 'exited'  # the restart stopped it; the resync saw that
    finally:
        await services.stop()
