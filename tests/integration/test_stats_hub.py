"""The stats hub against the real engine: viewers of a busy container share one daemon stream, which closes a linger
after the last one leaves; a stop ends it with a sentence and a start opens it again."""

from __future__ import annotations

import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.docker.endpoints import Endpoint, Endpoints
from core.permissions import LOCAL_ENDPOINT
from core.streams.stats_hub import StatsHub
from system import Services
from tests.support.busy import busy_container
from tests.support.counting_proxy import CountingProxy
from tests.support.eventually import eventually
from tests.unit.test_stats_hub import Viewer


@pytest.fixture
def busy() -> Iterator[str]:
    with busy_container(f'bt-stats-{uuid.uuid4().hex[:8]}') as name:
        yield name


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[CountingProxy]:
    """The hub under test reaches the daemon through it; only stats requests are counted."""
    counting = CountingProxy(tmp_path / 'docker.sock', only='/stats')
    yield counting
    counting.close()


@pytest.fixture
def hub(services: Services, proxy: CountingProxy) -> Iterator[StatsHub]:
    endpoints = Endpoints([Endpoint(id=LOCAL_ENDPOINT, name='local', url=proxy.url)])
    made = StatsHub(endpoints, services.state, linger=1.0)
    yield made
    made.stop()


def stats_threads() -> int:
    return sum(1 for thread in threading.enumerate() if thread.name.startswith('berth-stats-'))


async def running_id(services: Services, name: str) -> str:
    await eventually(
        lambda: (row := services.state.find(name)) is not None and row.state == 'running', what=f'{name} running'
    )
    row = services.state.find(name)
    assert row is not None
    return row.id


async def test_two_viewers_share_one_daemon_stream_closed_after_the_linger(
    services: Services, hub: StatsHub, proxy: CountingProxy, busy: str
) -> None:
    container_id = await running_id(services, busy)
    threads_before = stats_threads()
    # Given two viewers of a busy container
    first, second = Viewer(), Viewer()
    leave_first = hub.subscribe(LOCAL_ENDPOINT, container_id, first)
    leave_second = hub.subscribe(LOCAL_ENDPOINT, container_id, second)
    # Then figures arrive for both, with the CPU busy
    await eventually(lambda: len(first.cpu) >= 3 and len(second.cpu) >= 3, 20, 'three samples each')
    assert max(first.cpu) > 0 and first.cpu[: len(second.cpu)] == second.cpu[: len(first.cpu)]
    # And they came through one daemon connection, one stream, one thread
    assert (proxy.live, proxy.opened, hub.open_streams, hub.streams_opened) == (1, 1, 1, 1)
    assert stats_threads() == threads_before + 1

    # When both leave, the stream lingers, then closes with its connection and thread
    leave_first()
    leave_second()
    assert hub.open_streams == 1
    await eventually(lambda: proxy.live == 0 and hub.open_streams == 0, 10, 'the stream closed after the linger')
    await eventually(lambda: stats_threads() == threads_before, 10, 'the reader thread ended')
    assert proxy.opened == 1


async def test_a_stop_is_said_and_a_start_brings_the_figures_back(
    services: Services, hub: StatsHub, proxy: CountingProxy, busy: str
) -> None:
    container_id = await running_id(services, busy)
    viewer = Viewer()
    hub.subscribe(LOCAL_ENDPOINT, container_id, viewer)
    await eventually(lambda: len(viewer.cpu) >= 2, 20, 'figures')
    # When the container is stopped with the CLI
    subprocess.run(['docker', 'stop', '-t', '0', busy], check=True, capture_output=True)
    # Then the viewer is told, and the daemon connection closes
    await eventually(lambda: 'not running' in viewer.status, 20, lambda: f'a sentence, not {viewer.status!r}')
    assert viewer.status == 'The container is not running (exited); the figures go on when it starts again.'
    await eventually(lambda: proxy.live == 0, 10, 'the connection closed')
    shown = len(viewer.cpu)
    # When it is started again, figures come again through a new stream
    subprocess.run(['docker', 'start', busy], check=True, capture_output=True)
    await eventually(lambda: len(viewer.cpu) >= shown + 2 and viewer.cpu[-1] > 0, 20, 'figures again')
    assert viewer.status == '' and proxy.live == 1 and proxy.opened == 2
