"""Coarse CPU and memory figures per container, from one-shot stats reads: for tables and the dashboard, never a
stream per row.

Pages say which containers they want figures for (:meth:`UsageSampler.want`, a handle they release when they go);
one loop task samples the union of what is wanted, running containers only, in rounds (every ``round_seconds``, and
at once for containers a page has just asked for). A sample younger than ``fresh_seconds`` (or a read in flight) is
reused for everyone who wants that container. Reads run in the sampler's own small thread pool (``concurrency``
threads: each read waits about a second on the daemon, which fills ``precpu_stats`` so that one read gives CPU %), and
they start no faster than ``requests_per_second``: the daemon never gets more than that from here, whatever the number
of pages and rows. When nobody wants anything, nothing is read at all.

New figures reach the subscribers on the event loop, in small batches (``DELIVERY_SECONDS``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Collection, Hashable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import docker

from core.streams.stats_frame import StatsFrame

log = logging.getLogger(__name__)

DELIVERY_SECONDS = 0.25  # figures that arrive within this are handed to the subscribers together
REQUEST_LOG = 1000  # start times kept for :meth:`UsageSampler.request_rate`

Read = Callable[[str], StatsFrame]  # one blocking stats read of a container, run in the sampler's threads
UsageListener = Callable[[dict[str, 'Usage']], None]


@dataclass(kw_only=True, slots=True, frozen=True)
class Usage:
    """One container's coarse figures: CPU % over the second before ``sampled_at``, memory without the page cache."""

    container_id: str
    cpu_percent: float  # of one CPU: 250.0 is two and a half CPUs busy
    memory_used: int  # bytes
    memory_limit: int  # bytes: the container's limit, or the host's memory
    sampled_at: float  # the event loop's clock (``loop.time()``) when the answer came

    @property
    def memory_percent(self) -> float:
        return 100.0 * self.memory_used / self.memory_limit if self.memory_limit else 0.0

    @classmethod
    def of(cls, container_id: str, frame: StatsFrame, sampled_at: float) -> Usage:
        return cls(
            container_id=container_id,
            cpu_percent=frame.cpu_percent,
            memory_used=frame.memory_used,
            memory_limit=frame.memory_limit,
            sampled_at=sampled_at,
        )


def docker_read(client: Callable[[], docker.DockerClient]) -> Read:
    """Reads through an endpoint's shared client: ``GET /containers/{id}/stats?stream=false`` (not one-shot, so the
    daemon waits for its next sample and the frame carries ``precpu_stats``)."""

    def read(container_id: str) -> StatsFrame:
        return StatsFrame.from_api(client().api.stats(container_id, stream=False))

    return read


class Want:
    """A page's standing request for figures; :meth:`update` changes which containers, :meth:`release` ends it."""

    def __init__(self, sampler: UsageSampler, key: Hashable) -> None:
        self._sampler = sampler
        self.key = key

    def update(self, container_ids: Iterable[str]) -> None:
        self._sampler.want(self.key, container_ids)

    def release(self) -> None:
        self._sampler.release(self.key)


class UsageSampler:
    def __init__(
        self,
        read: Read,
        running: Callable[[], Collection[str]],  # ids of the running containers (from the live state), on the loop
        *,
        requests_per_second: float = 5.0,
        concurrency: int = 10,
        fresh_seconds: float = 4.0,
        round_seconds: float = 5.0,
    ) -> None:
        self.read = read
        self.running = running
        self.requests_per_second = requests_per_second
        self.concurrency = concurrency
        self.fresh_seconds = fresh_seconds
        self.round_seconds = round_seconds
        self.samples: dict[str, Usage] = {}  # the latest figures of each running container sampled so far
        self.request_times: deque[float] = deque(maxlen=REQUEST_LOG)  # loop clock when each read started
        self._wants: dict[Hashable, frozenset[str]] = {}
        self._wanted: frozenset[str] = frozenset()  # the union of the wants
        self._tried: dict[str, float] = {}  # container id → loop clock when its latest read started
        self._urgent: set[str] = set()  # newly wanted, sampled before the next round
        self._listeners: list[UsageListener] = []
        self._round_hooks: list[Callable[[], None]] = []
        self._batch: dict[str, Usage] = {}
        self._delivery: asyncio.TimerHandle | None = None
        self._next_start = 0.0
        self._task: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._slots: asyncio.Semaphore | None = None
        self._has_wants: asyncio.Event | None = None
        self._has_urgent: asyncio.Event | None = None

    def start(self) -> None:
        """Starts the loop task (on the running loop); it sleeps until something is wanted."""
        if self._task is not None:
            return
        self._executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix='berth-usage')
        self._slots = asyncio.Semaphore(self.concurrency)
        self._has_wants, self._has_urgent = asyncio.Event(), asyncio.Event()
        if self._wants:
            self._has_wants.set()
        self._task = asyncio.get_running_loop().create_task(self._run(), name='berth usage sampler')

    async def stop(self) -> None:
        """Ends the loop; reads in flight finish in their threads and are dropped."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def want(self, key: Hashable, container_ids: Iterable[str]) -> Want:
        """Figures for ``container_ids`` (replacing what ``key`` wanted before) until the handle is released."""
        wanted = frozenset(container_ids)
        before = self._wanted
        self._wants[key] = wanted
        self._wanted = frozenset().union(*self._wants.values())
        if self._has_wants is not None:
            self._has_wants.set()
        new = self._wanted - before
        if new and self._has_urgent is not None:
            self._urgent |= new
            self._has_urgent.set()
        return Want(self, key)

    def release(self, key: Hashable) -> None:
        if self._wants.pop(key, None) is None:
            return
        self._wanted = frozenset().union(*self._wants.values())
        if not self._wants and self._has_wants is not None:
            self._has_wants.clear()

    @property
    def wanted(self) -> frozenset[str]:
        """Every container some page wants figures for now."""
        return self._wanted

    def subscribe(self, listener: UsageListener) -> Callable[[], None]:
        """``listener(new figures by container id)`` on the loop; returns the function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def before_round(self, hook: Callable[[], None]) -> Callable[[], None]:
        """``hook()`` at the start of each round, before the round looks at what is wanted (it may change its want)."""
        self._round_hooks.append(hook)
        return lambda: self._round_hooks.remove(hook) if hook in self._round_hooks else None

    def recent(self, seconds: float) -> dict[str, Usage]:
        """The figures sampled within the last ``seconds``: what a page that opens now may show at once."""
        now = asyncio.get_running_loop().time()
        return {key: usage for key, usage in self.samples.items() if now - usage.sampled_at <= seconds}

    def request_rate(self, seconds: float = 30.0) -> float:
        """Reads started per second over the last ``seconds``."""
        now = asyncio.get_running_loop().time()
        return sum(1 for started in self.request_times if now - started <= seconds) / seconds

    def age(self, usage: Usage) -> float:
        """Seconds since ``usage`` was sampled."""
        return max(0.0, asyncio.get_running_loop().time() - usage.sampled_at)

    async def _run(self) -> None:
        assert self._has_wants is not None and self._has_urgent is not None
        loop = asyncio.get_running_loop()
        while True:
            await self._has_wants.wait()
            started = loop.time()
            for hook in list(self._round_hooks):
                try:
                    hook()
                except Exception:  # one broken page must not stop the sampling for the others
                    log.exception('usage round hook failed')
            self._urgent.clear()
            self._has_urgent.clear()
            await self._sample(self._wanted)
            while self._wants and (remaining := started + self.round_seconds - loop.time()) > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._has_urgent.wait(), remaining)
                if self._has_urgent.is_set():
                    self._has_urgent.clear()
                    urgent, self._urgent = self._urgent, set()
                    await self._sample(urgent)

    async def _sample(self, container_ids: Collection[str]) -> None:
        """Reads the running, wanted containers among ``container_ids`` that have no fresh figure, stalest first, at
        most ``concurrency`` at a time and no faster than ``requests_per_second``."""
        assert self._slots is not None
        loop = asyncio.get_running_loop()
        running = set(self.running())
        for gone in [container_id for container_id in self._tried if container_id not in running]:
            self._tried.pop(gone, None)
            self.samples.pop(gone, None)
        due = sorted(
            (container_id for container_id in container_ids if container_id in running and self._due(container_id)),
            key=lambda container_id: self._tried.get(container_id, 0.0),
        )
        reads: list[asyncio.Task[None]] = []
        for container_id in due:
            await self._slots.acquire()
            if (delay := self._next_start - loop.time()) > 0:
                await asyncio.sleep(delay)
            # the wants may have changed while this waited: a released page's rows are not read any more
            if container_id not in self._wanted or not self._due(container_id):
                self._slots.release()
                continue
            now = loop.time()
            self._next_start = max(self._next_start, now) + 1.0 / self.requests_per_second
            self._tried[container_id] = now
            self.request_times.append(now)
            reads.append(loop.create_task(self._read_one(container_id)))
        if reads:
            await asyncio.gather(*reads)

    def _due(self, container_id: str) -> bool:
        tried = self._tried.get(container_id)
        return tried is None or asyncio.get_running_loop().time() - tried >= self.fresh_seconds

    async def _read_one(self, container_id: str) -> None:
        assert self._slots is not None
        loop = asyncio.get_running_loop()
        try:
            frame = await loop.run_in_executor(self._executor, self.read, container_id)
        except Exception as error:  # gone, stopped, engine away: no figure this time
            log.debug('usage of %s: %s', container_id[:12], error)
            return
        finally:
            self._slots.release()
        usage = Usage.of(container_id, frame, loop.time())
        self.samples[container_id] = usage
        self._batch[container_id] = usage
        if self._delivery is None:
            self._delivery = loop.call_later(DELIVERY_SECONDS, self._deliver)

    def _deliver(self) -> None:
        self._delivery = None
        batch, self._batch = self._batch, {}
        for listener in list(self._listeners):
            try:
                listener(batch)
            except Exception:  # one broken page must not stop the others
                log.exception('usage listener failed')
