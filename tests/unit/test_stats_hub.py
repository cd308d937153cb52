"""The stats hub with a fake stream source: one stream per container shared by its viewers, history, the linger, and
the live state ending and reopening streams."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from typing import Any

import pytest

from core.docker.endpoints import Endpoint, Endpoints
from core.permissions import LOCAL_ENDPOINT
from core.state.containers import ContainerRow
from core.state.model import DockerState
from core.streams.stats_hub import StatsHub, StatsUpdate
from core.streams.stats_stream import StatsStream
from tests.support.eventually import eventually

CONTAINER = 'c0ffee' * 10 + 'abcd'
END = object()


def frame(second: int, *, rx: int = 0, cpu: int = 0) -> dict[str, Any]:
    """A stats frame read at 12:00:SS, with ``cpu`` ns of CPU over 1 s of host time on one CPU, ``rx`` bytes in."""
    return {
        'read': f'2026-11-24T12:00:{second:02d}.000000000Z',
        'cpu_stats': {'cpu_usage': {'total_usage': cpu}, 'system_cpu_usage': 1_000_000_000, 'online_cpus': 1},
        'precpu_stats': {'cpu_usage': {'total_usage': 0}, 'system_cpu_usage': 0},
        'memory_stats': {'usage': 1000, 'limit': 4000},
        'networks': {'eth0': {'rx_bytes': rx, 'tx_bytes': 0}},
        'pids_stats': {'current': 3},
    }


class FakeStream:
    def __init__(self) -> None:
        self.queue: queue.Queue[object] = queue.Queue()
        self.closed = False

    def frames(self) -> Iterator[dict[str, Any]]:
        while (item := self.queue.get()) is not END:
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, dict)
            yield item

    def close(self) -> None:
        self.closed = True
        self.queue.put(END)

    def send(self, data: dict[str, Any] | BaseException) -> None:
        self.queue.put(data)


class FakeSource:
    """Stands in for the daemon: every open is a new FakeStream, kept in ``streams``."""

    def __init__(self) -> None:
        self.streams: list[FakeStream] = []

    def __call__(self, endpoint: Endpoint, container_id: str) -> StatsStream:
        assert (endpoint.id, container_id) == (LOCAL_ENDPOINT, CONTAINER)
        self.streams.append(FakeStream())
        return self.streams[-1]

    @property
    def open(self) -> list[FakeStream]:
        return [stream for stream in self.streams if not stream.closed]


class Viewer:
    def __init__(self) -> None:
        self.updates: list[StatsUpdate] = []

    def __call__(self, update: StatsUpdate) -> None:
        self.updates.append(update)

    @property
    def cpu(self) -> list[float]:
        return [sample.frame.cpu_percent for update in self.updates for sample in update.samples]

    @property
    def status(self) -> str:
        return self.updates[-1].status if self.updates else ''


def running(state: DockerState, status: str = 'running') -> None:
    state.upsert(ContainerRow(id=CONTAINER, name='busy', image='busybox', state=status))


@pytest.fixture
def state() -> DockerState:
    model = DockerState()
    model.set_engine(True, 'connected')
    running(model)
    return model


@pytest.fixture
def source() -> FakeSource:
    return FakeSource()


@pytest.fixture
def hub(state: DockerState, source: FakeSource) -> Iterator[StatsHub]:
    made = StatsHub(
        Endpoints([Endpoint(id=LOCAL_ENDPOINT, name='local')]), state, open_stream=source, linger=0.3, recheck=0.2
    )
    yield made
    made.stop()


async def test_two_viewers_share_one_stream_and_both_get_every_sample(hub: StatsHub, source: FakeSource) -> None:
    first, second = Viewer(), Viewer()
    hub.subscribe(LOCAL_ENDPOINT, CONTAINER, first)
    hub.subscribe(LOCAL_ENDPOINT, CONTAINER, second)
    await eventually(lambda: len(source.streams) == 1, what='the stream opened')
    # When the daemon sends frames
    for second_of_minute, cpu in ((1, 250_000_000), (2, 500_000_000)):
        source.streams[0].send(frame(second_of_minute, cpu=cpu))
    # Then both viewers get both samples, through the one stream
    await eventually(lambda: first.cpu == second.cpu == [25.0, 50.0], what='both viewers fed')
    assert hub.streams_opened == 1 and hub.open_streams == 1 and len(source.streams) == 1


async def test_a_late_viewer_gets_the_history_at_once_and_it_is_bounded(state: DockerState, source: FakeSource) -> None:
    hub = StatsHub(Endpoints([Endpoint(id=LOCAL_ENDPOINT, name='local')]), state, open_stream=source, history=3)
    first = Viewer()
    hub.subscribe(LOCAL_ENDPOINT, CONTAINER, first)
    await eventually(lambda: len(source.streams) == 1)
    for second in range(1, 6):
        source.streams[0].send(frame(second, rx=1000 * second))
    await eventually(lambda: len(first.cpu) == 5, what='five samples')
    # When a second viewer comes
    late = Viewer()
    hub.subscribe(LOCAL_ENDPOINT, CONTAINER, late)
    # Then its first update holds the last three samples, with their rates (1000 bytes a second)
    history = late.updates[0]
    assert history.history and [sample.frame.read_at % 60 for sample in history.samples] == [3.0, 4.0, 5.0]
    assert [sample.rates.net_rx for sample in history.samples] == [1000.0, 1000.0, 1000.0]
    assert first.updates[0].history and first.updates[0].samples == ()
    hub.stop()


async def test_the_stream_closes_a_linger_after_the_last_viewer_leaves(hub: StatsHub, source: FakeSource) -> None:
    first, second = Viewer(), Viewer()
    leave_first = hub.subscribe(LOCAL_ENDPOINT, CONTAINER, first)
    leave_second = hub.subscribe(LOCAL_ENDPOINT, CONTAINER, second)
    await eventually(lambda: len(source.streams) == 1)
    leave_first()
    leave_first()  # twice is once
    assert hub.subscribers(LOCAL_ENDPOINT, CONTAINER) == 1
    # When the last viewer leaves, the stream stays open for the linger
    leave_second()
    assert source.open and hub.open_streams == 1
    # And a viewer coming back meanwhile gets the same stream
    back = Viewer()
    leave_back = hub.subscribe(LOCAL_ENDPOINT, CONTAINER, back)
    source.streams[0].send(frame(1, cpu=100_000_000))
    await eventually(lambda: back.cpu == [10.0], what='the same stream feeding the viewer who came back')
    assert len(source.streams) == 1
    # Then once nobody is left for the linger, the stream closes
    leave_back()
    await eventually(lambda: not source.open and hub.open_streams == 0, what='the stream closed after the linger')
    assert hub.subscribers(LOCAL_ENDPOINT, CONTAINER) == 0 and len(source.streams) == 1


async def test_a_stop_ends_the_stream_with_a_sentence_and_a_start_opens_it_again(
    hub: StatsHub, source: FakeSource, state: DockerState
) -> None:
    viewer = Viewer()
    hub.subscribe(LOCAL_ENDPOINT, CONTAINER, viewer)
    await eventually(lambda: len(source.streams) == 1)
    source.streams[0].send(frame(1))
    await eventually(lambda: len(viewer.cpu) == 1)
    # When the container stops (its 'die' event reaches the state)
    running(state, 'exited')
    # Then the stream is closed and the viewer told why
    assert not source.open and hub.open_streams == 0
    assert viewer.status == 'The container is not running (exited); the figures go on when it starts again.'
    # When it starts again, a new stream opens and figures flow again, after the old ones
    running(state)
    await eventually(lambda: len(source.open) == 1, what='a new stream')
    assert viewer.status == ''
    source.streams[1].send(frame(9, cpu=300_000_000))
    await eventually(lambda: viewer.cpu == [0.0, 30.0], what='figures again')


async def test_a_removed_container_is_said_so(hub: StatsHub, source: FakeSource, state: DockerState) -> None:
    viewer = Viewer()
    hub.subscribe(LOCAL_ENDPOINT, CONTAINER, viewer)
    await eventually(lambda: len(source.streams) == 1)
    state.remove(CONTAINER)
    assert viewer.status == 'The container no longer exists.' and not source.open


async def test_a_container_not_running_opens_no_stream(hub: StatsHub, source: FakeSource, state: DockerState) -> None:
    running(state, 'created')
    viewer = Viewer()
    hub.subscribe(LOCAL_ENDPOINT, CONTAINER, viewer)
    assert viewer.updates == [
        StatsUpdate(
            status='The container is not running (created); the figures go on when it starts again.', history=True
        )
    ]
    assert hub.open_streams == 0 and source.streams == []


async def test_a_broken_stream_is_said_so_and_tried_again(hub: StatsHub, source: FakeSource) -> None:
    viewer = Viewer()
    hub.subscribe(LOCAL_ENDPOINT, CONTAINER, viewer)
    await eventually(lambda: len(source.streams) == 1)
    # When the stream breaks while the state still says "running"
    source.streams[0].send(RuntimeError('the stream broke'))
    # Then the viewer is told, and the stream is opened again a little later
    await eventually(lambda: 'trying again' in viewer.status, what='a sentence')
    assert viewer.status == 'The stats stream ended: the stream broke; trying again in a few seconds.'
    await eventually(lambda: len(source.open) == 1 and len(source.streams) == 2, what='opened again')
    assert viewer.status == ''


async def test_an_unreachable_engine_ends_the_streams_and_its_return_reopens_them(
    hub: StatsHub, source: FakeSource, state: DockerState
) -> None:
    viewer = Viewer()
    hub.subscribe(LOCAL_ENDPOINT, CONTAINER, viewer)
    await eventually(lambda: len(source.streams) == 1)
    state.set_engine(False, 'Docker engine unreachable — retrying')
    assert viewer.status == 'No figures: Docker engine unreachable — retrying.' and not source.open
    state.set_engine(True, 'connected')
    state.replace_all([ContainerRow(id=CONTAINER, name='busy', image='busybox', state='running')])
    await eventually(lambda: len(source.open) == 1, what='opened again')


async def test_empty_frames_of_a_stopped_container_are_skipped(hub: StatsHub, source: FakeSource) -> None:
    viewer = Viewer()
    hub.subscribe(LOCAL_ENDPOINT, CONTAINER, viewer)
    await eventually(lambda: len(source.streams) == 1)
    source.streams[0].send(frame(1, cpu=100_000_000))
    source.streams[0].send({'read': '0001-01-01T00:00:00Z'})
    source.streams[0].send(frame(3, cpu=200_000_000))
    await eventually(lambda: viewer.cpu == [10.0, 20.0], what='the two real frames')


async def test_stop_ends_every_stream(hub: StatsHub, source: FakeSource) -> None:
    hub.subscribe(LOCAL_ENDPOINT, CONTAINER, Viewer())
    await eventually(lambda: len(source.streams) == 1)
    hub.stop()
    assert not source.open and hub.open_streams == 0
