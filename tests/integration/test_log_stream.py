"""LogFollower against the real engine: live lines, stdout/stderr apart, restarts and recreation, clean stops."""

from __future__ import annotations

import re
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.docker.endpoints import Endpoint
from core.permissions import LOCAL_ENDPOINT
from core.streams.log_decode import CUT, LINE_LIMIT, MARKER, STDERR, STDOUT, LogLine
from core.streams.log_stream import LogFollower
from system import Services
from tests.support.counting_proxy import CountingProxy
from tests.support.eventually import eventually

BUSYBOX = 'berth-test/busybox:latest'
COUNTER = 'i=0; while true; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); sleep 0.05; done'
RunContainer = Callable[..., str]


@pytest.fixture
def run_container() -> Iterator[RunContainer]:
    """``docker run -d`` of a busybox shell script under a name; every container it made is removed afterwards."""
    names: list[str] = []

    def run(script: str, name: str | None = None, tty: bool = False) -> str:
        name = name or f'berth-test-logs-{uuid.uuid4().hex[:8]}'
        subprocess.run(
            [
                'docker',
                'run',
                '-d',
                *(['-t'] if tty else []),
                '--name',
                name,
                '--label',
                'berth-test=1',
                BUSYBOX,
                'sh',
                '-c',
                script,
            ],
            check=True,
            capture_output=True,
        )
        names.append(name)
        return name

    yield run
    for name in names:
        subprocess.run(['docker', 'rm', '-f', name], capture_output=True, check=False)


class Collector:
    """What a view would receive from the follower."""

    def __init__(self) -> None:
        self.lines: list[LogLine] = []
        self.dropped = 0

    def __call__(self, lines: list[LogLine], dropped: int) -> None:
        self.lines.extend(lines)
        self.dropped += dropped

    def texts(self, stream: str | None = None) -> list[str]:
        return [line.text for line in self.lines if stream is None or line.stream == stream]

    def markers(self) -> list[str]:
        return self.texts(MARKER)


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[CountingProxy]:
    """The followers under test reach the daemon through it: its count is their connections alone."""
    counting = CountingProxy(tmp_path / 'docker.sock')
    yield counting
    counting.close()


def follower(
    services: Services, names: list[str], collector: Collector, docker_host: str | None = None, **options: object
) -> LogFollower:
    endpoint = Endpoint(id=LOCAL_ENDPOINT, name='local', url=docker_host)
    created = LogFollower(state=services.state, endpoint=endpoint, names=names, on_lines=collector, **options)  # type: ignore[arg-type]
    created.start()
    return created


def reader_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith('berth-logs-')]


def printed(name: str, text: str) -> bool:
    """Has the container printed ``text`` (as ``docker logs`` shows it)?"""
    result = subprocess.run(['docker', 'logs', name], capture_output=True, check=True)
    return text.encode() in result.stdout


async def wait_for_container(services: Services, name: str) -> None:
    await eventually(
        lambda: (row := services.state.find(name)) is not None and row.state == 'running',
        what=f'{name} running in the state',
    )


async def test_follows_history_then_live_lines_with_stdout_and_stderr_apart(
    services: Services, run_container: RunContainer
) -> None:
    name = run_container(COUNTER)
    await wait_for_container(services, name)
    await eventually(lambda: printed(name, 'out 5'))
    collector = Collector()
    logs = follower(services, [name], collector, tail=4)
    try:
        # Then the last 4 lines come first, then new lines keep arriving, each on its own stream
        await eventually(lambda: len(collector.lines) >= 30, what='live lines')
        assert all(line.container == name for line in collector.lines)
        out, err = collector.texts(STDOUT), collector.texts(STDERR)
        assert all(text.startswith('out ') for text in out) and all(text.startswith('err ') for text in err)
        numbers = [int(text.split()[1]) for text in out]
        assert numbers[0] > 0  # the history is the tail, not the whole log
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # no gap, no repeat
    finally:
        logs.close()


async def test_a_tty_container_has_one_stream_and_no_carriage_returns(
    services: Services, run_container: RunContainer
) -> None:
    name = run_container('i=0; while true; do echo "tty $i <b>"; i=$((i+1)); sleep 0.05; done', tty=True)
    await wait_for_container(services, name)
    collector = Collector()
    logs = follower(services, [name], collector, tail=3)
    try:
        await eventually(lambda: len(collector.lines) >= 10, what='tty lines')
        assert all(line.stream == STDOUT and re.fullmatch(r'tty \d+ <b>', line.text) for line in collector.lines)
    finally:
        logs.close()


async def test_stop_ends_the_thread_and_connection_and_resume_catches_up(
    services: Services, proxy: CountingProxy, run_container: RunContainer
) -> None:
    name = run_container(COUNTER)
    await wait_for_container(services, name)
    threads_before = reader_threads()
    collector = Collector()
    logs = follower(services, [name], collector, docker_host=proxy.url, tail=0)
    await eventually(lambda: len(collector.texts(STDOUT)) >= 5, what='first lines')
    assert reader_threads() == [*threads_before, f'berth-logs-{name}'] and proxy.live == 1
    # When the viewer stops following
    logs.stop()
    # Then its thread ends and its connection to the daemon is closed
    await eventually(lambda: reader_threads() == threads_before and logs.open_streams == 0, what='reader gone')
    await eventually(lambda: proxy.live == 0, what='connection closed')
    stopped_at = len(collector.lines)
    await eventually(lambda: printed(name, 'out 40'))
    assert len(collector.lines) == stopped_at
    # And resuming delivers what was printed meanwhile, nothing twice
    logs.resume()
    await eventually(lambda: 'out 45' in collector.texts(STDOUT), what='caught up')
    numbers = [int(text.split()[1]) for text in collector.texts(STDOUT)]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    assert proxy.live == 1
    logs.close()
    await eventually(lambda: reader_threads() == threads_before and proxy.live == 0, what='closed for good')


async def test_two_followers_are_independent(
    services: Services, proxy: CountingProxy, run_container: RunContainer
) -> None:
    name = run_container(COUNTER)
    await wait_for_container(services, name)
    first, second = Collector(), Collector()
    one = follower(services, [name], first, docker_host=proxy.url, tail=0)
    two = follower(services, [name], second, docker_host=proxy.url, tail=0)
    await eventually(lambda: len(first.lines) > 4 and len(second.lines) > 4, what='both following')
    assert reader_threads().count(f'berth-logs-{name}') == 2 and proxy.live == 2
    one.stop()
    await eventually(
        lambda: reader_threads().count(f'berth-logs-{name}') == 1 and proxy.live == 1, what='only the stopped one ends'
    )
    count = len(second.lines)
    await eventually(lambda: len(second.lines) > count + 10, what='the other one still following')
    assert one.following is False and two.following is True and two.open_streams == 1
    one.close()
    two.close()


async def test_restart_is_announced_and_the_new_run_followed(services: Services, run_container: RunContainer) -> None:
    name = run_container(COUNTER)
    await wait_for_container(services, name)
    collector = Collector()
    logs = follower(services, [name], collector, tail=2)
    try:
        await eventually(lambda: len(collector.texts(STDOUT)) >= 5, what='first run lines')
        # When the container restarts
        subprocess.run(['docker', 'restart', '-t', '0', name], check=True, capture_output=True)
        # Then the view says so and follows the new run (its counter starts at 0 again), without repeating lines
        await eventually(lambda: '— container restarted —' in collector.markers(), what='restart marker')
        restart = collector.texts().index('— container restarted —')
        await eventually(lambda: 'out 10' in collector.texts()[restart:], what='lines of the new run')
        assert '— container stopped —' in collector.texts()[:restart]
        assert collector.texts()[restart + 1 :].count('out 0') == 1
        stamped = [(line.timestamp, line.text) for line in collector.lines if line.stream != MARKER]
        assert len(stamped) == len(set(stamped))
    finally:
        logs.close()


async def test_recreated_container_is_followed_under_its_name(services: Services, run_container: RunContainer) -> None:
    name = run_container(COUNTER)
    await wait_for_container(services, name)
    old_id = services.state.find(name).id  # type: ignore[union-attr]
    collector = Collector()
    logs = follower(services, [name], collector, tail=0)
    try:
        await eventually(lambda: len(collector.lines) >= 4, what='first instance lines')
        # When it is removed and created again under the same name (as compose does)
        subprocess.run(['docker', 'rm', '-f', name], check=True, capture_output=True)
        run_container('while true; do echo "second instance"; sleep 0.05; done', name=name)
        # Then the view says so and shows the new instance's lines
        await eventually(lambda: 'second instance' in collector.texts(), what='new instance lines')
        markers = collector.markers()
        assert '— container recreated —' in markers, markers
        assert services.state.find(name).id != old_id  # type: ignore[union-attr]
    finally:
        logs.close()
    await eventually(lambda: not reader_threads(), what='no reader left')


async def test_merged_view_is_tagged_and_in_time_order(services: Services, run_container: RunContainer) -> None:
    first = run_container('i=0; while true; do echo "a $i"; i=$((i+1)); sleep 0.03; done')
    second = run_container('i=0; while true; do echo "b $i"; i=$((i+1)); sleep 0.05; done')
    await wait_for_container(services, first)
    await wait_for_container(services, second)
    await eventually(lambda: printed(second, 'b 10'))
    collector = Collector()
    logs = follower(services, [first, second], collector, tail=20)
    try:
        await eventually(lambda: len(collector.lines) >= 80, what='lines of both')
        assert {line.container for line in collector.lines} == {first, second}
        assert all(line.text.startswith('a ' if line.container == first else 'b ') for line in collector.lines)
        history = collector.lines[:40]  # both tails, merged before anything is shown
        assert [line.timestamp for line in history] == sorted(line.timestamp for line in history)
    finally:
        logs.close()


async def test_a_flood_is_bounded_and_the_drops_are_counted(services: Services, run_container: RunContainer) -> None:
    name = run_container('seq 1 200000; sleep 600')
    await wait_for_container(services, name)
    collector = Collector()
    logs = follower(services, [name], collector, tail=None, max_pending=1000, batch_seconds=0.2)
    try:
        await eventually(lambda: len(collector.lines) + collector.dropped >= 200000, timeout=60, what='all lines')
        assert collector.dropped > 0 and collector.texts()[-1] == '200000'
    finally:
        logs.close()


class BatchSizes(Collector):
    """Also records the characters of text in each batch the follower hands over."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def __call__(self, lines: list[LogLine], dropped: int) -> None:
        super().__call__(lines, dropped)
        self.sizes.append(sum(len(line.text) for line in lines))


async def test_long_lines_are_cut_and_the_queue_is_bounded_in_characters(
    services: Services, run_container: RunContainer
) -> None:
    # Given a container that prints 300 lines of 40 KB (12 MB) as fast as it can
    name = run_container(
        'i=0; while [ $i -lt 300 ]; do head -c 40000 /dev/zero | tr "\\0" x; echo " $i"; '
        'i=$((i+1)); done; echo done; sleep 600'
    )
    await wait_for_container(services, name)
    await eventually(lambda: printed(name, 'done'), timeout=60, what='all lines printed')
    # When a follower reads all of it with room for 256 KB of text between two hand-overs
    collector = BatchSizes()
    logs = follower(services, [name], collector, tail=None, max_pending_chars=256 * 1024, batch_seconds=0.5)
    try:
        await eventually(lambda: 'done' in collector.texts(), timeout=60, what='the last line')
        # Then every long line is cut at the limit, visibly, and no batch held more than the bound
        long_lines = [text for text in collector.texts() if text != 'done']
        assert long_lines and all(text == 'x' * LINE_LIMIT + CUT for text in long_lines)
        assert max(collector.sizes) <= 256 * 1024
        # And what did not fit was counted, not lost silently
        assert collector.dropped > 0 and len(long_lines) + collector.dropped == 300
    finally:
        logs.close()
