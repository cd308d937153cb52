"""The dashboard's "top containers by CPU and by memory" on a budget: which containers to sample each round.

Sampling every running container every few seconds would cost hundreds of daemon requests per round on a big host.
Instead, each round of the :class:`~core.streams.usage.UsageSampler` (every ``round_seconds``, 5 s by default) this
asks for at most ``per_round`` containers (7): the current leaders (the containers in either top list), stalest
first, up to ``leaders_per_round`` (4), and the rest of the round's share for the other running containers in turn
(a rotation in id order). So every open dashboard together adds at most ``per_round / round_seconds`` reads per
second (1.4), whatever the number of containers.

What the figures mean: each is one container's CPU % over about a second and its memory, at the moment shown beside
it. The ranking is over the latest figure of every running container sampled so far (by this rotation, or by a
containers page showing it): a leader is re-sampled at least every ``ceil(10 / leaders_per_round)`` rounds (15 s)
and drops out when it calms down; a container that becomes busy is found when the rotation reaches it, after at
most ``running / (per_round - leaders_per_round)`` rounds (at 500 running containers about 170 rounds, 14 minutes;
with ``per_round`` running containers or fewer, every round).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Collection

from core.streams.usage import Usage, UsageSampler, Want

TOP = 5
KEY = 'usage-leaders'


class UsageLeaders:
    """Shared by every open dashboard (:meth:`join`): one want with the sampler, however many pages show it."""

    def __init__(
        self,
        sampler: UsageSampler,
        running: Callable[[], Collection[str]],
        *,
        per_round: int = 7,
        leaders_per_round: int = 4,
        top: int = TOP,
    ) -> None:
        self.sampler = sampler
        self.running = running
        self.per_round = per_round
        self.leaders_per_round = leaders_per_round
        self.top = top
        self._members = 0
        self._want: Want | None = None
        self._unhook: Callable[[], None] | None = None
        self._cursor = ''  # the rotation goes on after this container id

    def join(self) -> Callable[[], None]:
        """Starts the selection for one more page; returns the function that ends it for that page."""
        self._members += 1
        if self._members == 1:
            self._want = self.sampler.want(KEY, ())  # the next round's hook fills it in: no burst on top of a round
            self._unhook = self.sampler.before_round(self._next_round)
        left = False

        def leave() -> None:
            nonlocal left
            if left:
                return
            left = True
            self._members -= 1
            if self._members == 0 and self._want is not None and self._unhook is not None:
                self._unhook()
                self._want.release()
                self._want = self._unhook = None

        return leave

    def by_cpu(self) -> list[Usage]:
        return self._ranked(lambda usage: usage.cpu_percent)

    def by_memory(self) -> list[Usage]:
        return self._ranked(lambda usage: float(usage.memory_used))

    def picks(self) -> list[str]:
        """The containers the next round samples for the top lists: stalest leaders, the rotation, then (when the
        rotation leaves room) more leaders."""
        running = sorted(self.running())
        leaders = {usage.container_id for usage in self.by_cpu() + self.by_memory()}
        stalest = sorted(leaders, key=lambda container_id: self.sampler.samples[container_id].sampled_at)
        picks = stalest[: self.leaders_per_round]
        others = [container_id for container_id in running if container_id not in leaders]
        if others:
            start = bisect.bisect_right(others, self._cursor)
            rotation = (others[start:] + others[:start])[: max(0, self.per_round - len(picks))]
            if rotation:
                self._cursor = rotation[-1]
            picks += rotation
        return picks + stalest[self.leaders_per_round :][: max(0, self.per_round - len(picks))]

    def _next_round(self) -> None:
        if self._want is not None:
            self._want.update(self.picks())

    def _ranked(self, figure: Callable[[Usage], float]) -> list[Usage]:
        running = set(self.running())
        samples = [usage for container_id, usage in self.sampler.samples.items() if container_id in running]
        return sorted(samples, key=lambda usage: (-figure(usage), usage.container_id))[: self.top]
