"""core.streams.usage (the coarse sampler) and usage_leaders (the dashboard's top lists), with a fake stats source."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable

import pytest

from core.streams.stats_frame import StatsFrame
from core.streams.usage import Usage, UsageSampler
from core.streams.usage_leaders import UsageLeaders
from tests.support.eventually import eventually


class FakeSource:
    """Stands in for the daemon: counts reads per container, how many run at once, and answers after ``seconds``."""

    def __init__(self, seconds: float = 0.0, cpu: Callable[[str], float] = lambda container_id: 1.0) -> None:
        self.seconds = seconds
        self.cpu = cpu
        self.reads: Counter[str] = Counter()
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def read(self, container_id: str) -> StatsFrame:
        with self._lock:
            self.reads[container_id] += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(self.seconds)
        with self._lock:
            self.in_flight -= 1
        return StatsFrame(
            read_at=0.0,
            cpu_percent=self.cpu(container_id),
            online_cpus=2,
            memory_used=1000 + int(self.cpu(container_id)),
            memory_limit=10_000,
            net_rx=0,
            net_tx=0,
            block_read=0,
            block_write=0,
            pids=1,
        )

    @property
    def total(self) -> int:
        return sum(self.reads.values())


@pytest.fixture
async def started() -> AsyncIterator[Callable[..., UsageSampler]]:
    samplers: list[UsageSampler] = []

    def start(source: FakeSource, running: set[str], **options: float) -> UsageSampler:
        sampler = UsageSampler(source.read, lambda: running, **options)  # type: ignore[arg-type]
        sampler.start()
        samplers.append(sampler)
        return sampler

    yield start
    for sampler in samplers:
        await sampler.stop()


async def test_reads_keep_to_the_request_budget_and_the_thread_cap(started: Callable[..., UsageSampler]) -> None:
    source = FakeSource(seconds=0.3)
    ids = {f'c{index:02d}' for index in range(15)}
    sampler = started(source, ids, requests_per_second=20, concurrency=4, fresh_seconds=100, round_seconds=100)
    sampler.want('page', ids)
    await eventually(lambda: source.total == 15, what=lambda: f'15 reads, have {source.total}')
    # no two reads started closer than the budget allows, and never more than four at a time
    starts = list(sampler.request_times)
    assert len(starts) == 15
    assert min(later - earlier for earlier, later in itertools.pairwise(starts)) >= 1 / 20 - 1e-6
    assert source.most_in_flight <= 4
    assert set(source.reads) == ids and set(source.reads.values()) == {1}


async def test_a_fresh_sample_is_reused_for_everyone_who_wants_it(started: Callable[..., UsageSampler]) -> None:
    source = FakeSource()
    sampler = started(source, {'a', 'b', 'c'}, fresh_seconds=60, round_seconds=60, requests_per_second=1000)
    delivered: list[dict[str, Usage]] = []
    sampler.subscribe(delivered.append)
    # Given two pages that want the same container at the same time
    first = sampler.want('first page', ['a'])
    sampler.want('second page', ['a', 'b'])
    await eventually(lambda: {'a', 'b'} <= set(sampler.samples), what='figures for a and b')
    # When both go, and a third page asks for it (and for one more) while its figure is still fresh
    first.release()
    sampler.release('second page')
    sampler.want('third page', ['a', 'c'])
    await eventually(lambda: 'c' in sampler.samples, what='a figure for c')
    await asyncio.sleep(0.1)  # a read of a would have started with the one of c
    # Then the daemon was asked once per container, and the figures reached the subscribers on the loop
    assert source.reads == {'a': 1, 'b': 1, 'c': 1}
    await eventually(lambda: {key for batch in delivered for key in batch} == {'a', 'b', 'c'}, what='deliveries')
    assert sampler.samples['a'].cpu_percent == 1.0 and sampler.samples['a'].memory_percent == pytest.approx(10.01)


async def test_only_running_containers_are_read(started: Callable[..., UsageSampler]) -> None:
    source = FakeSource()
    sampler = started(source, {'running'}, fresh_seconds=60, round_seconds=0.05)
    sampler.want('page', ['running', 'stopped'])
    await eventually(lambda: 'running' in sampler.samples, what='a figure for the running container')
    await asyncio.sleep(0.3)  # a few rounds
    assert 'stopped' not in source.reads and 'stopped' not in sampler.samples


async def test_nothing_is_read_when_nobody_wants_anything(started: Callable[..., UsageSampler]) -> None:
    source = FakeSource()
    sampler = started(source, {'a', 'b'}, fresh_seconds=0.01, round_seconds=0.02, requests_per_second=1000)
    await asyncio.sleep(0.3)
    assert source.total == 0
    # Given a page that wants figures: they are read again and again (every round, as they go stale)
    want = sampler.want('page', ['a'])
    await eventually(lambda: source.reads['a'] >= 3, what='repeated reads of a')
    # When it releases its want, the reading stops (a read already under way may still finish)
    want.release()
    await asyncio.sleep(0.05)
    after_release = source.total
    await asyncio.sleep(0.3)
    assert source.total == after_release


async def test_the_leaders_are_found_within_a_bounded_number_of_reads_per_round(
    started: Callable[..., UsageSampler],
) -> None:
    running = {f'c{index:02d}' for index in range(30)}
    source = FakeSource(cpu=lambda container_id: 50.0 if container_id == 'c17' else float(container_id[1:]) / 10)
    sampler = started(source, running, fresh_seconds=0.001, round_seconds=0.02, requests_per_second=10_000)
    rounds = 0

    def count_round() -> None:
        nonlocal rounds
        rounds += 1

    sampler.before_round(count_round)
    leaders = UsageLeaders(sampler, lambda: running, per_round=7, leaders_per_round=4)
    # Given two dashboards open together
    leave_first, leave_second = leaders.join(), leaders.join()
    # Then the busiest container comes first once the rotation reached it, every container got read
    await eventually(lambda: [usage.container_id for usage in leaders.by_cpu()][:1] == ['c17'], what='c17 leading')
    await eventually(lambda: set(source.reads) == running, what='every running container read once')
    # And no round read more than its share, however many dashboards are open
    assert source.total <= 7 * rounds
    assert len(leaders.by_cpu()) == 5 and len(leaders.by_memory()) == 5
    assert leaders.by_memory()[0].container_id == 'c17'
    # When both leave, the sampler is asked for nothing more
    leave_first()
    assert sampler.wanted
    leave_second()
    leave_second()  # twice changes nothing
    assert not sampler.wanted
