"""One engine's disk usage (``GET /system/df``), shared: the call walks every volume and layer, so every page of the
panel reuses one answer for a few seconds and never runs two at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

REUSE_SECONDS = 5.0

DiskUsage = dict[str, Any]


class DiskUsageCache:
    """The last answer of ``read`` (reused for ``reuse_seconds``) and the one request under way, which every caller
    in the meantime awaits. Used on the event loop; ``read`` runs the engine call off it. A failure is not kept."""

    def __init__(
        self,
        read: Callable[[], Awaitable[DiskUsage]],
        *,
        reuse_seconds: float = REUSE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.read = read
        self.reuse_seconds = reuse_seconds
        self.clock = clock
        self._answer: DiskUsage | None = None
        self._answered_at = 0.0
        self._pending: asyncio.Future[DiskUsage] | None = None

    @property
    def known(self) -> DiskUsage | None:
        """The last answer, however old (None before the first one): for showing something at once."""
        return self._answer

    async def get(self, *, fresh: bool = False) -> DiskUsage:
        """A recent answer; with ``fresh``, one asked for now (or joined, when a request is under way)."""
        if self._pending is None:
            recent = self._answer is not None and self.clock() - self._answered_at < self.reuse_seconds
            if recent and not fresh:
                assert self._answer is not None
                return self._answer
            self._pending = asyncio.ensure_future(self._ask())
        return await asyncio.shield(self._pending)  # one caller leaving does not cancel the others' request

    async def _ask(self) -> DiskUsage:
        try:
            answer = await self.read()
            self._answer, self._answered_at = answer, self.clock()
            return answer
        finally:
            self._pending = None
