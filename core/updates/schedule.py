"""The periodic update check: every ``BERTH_UPDATE_CHECK_MINUTES`` each reference in use is checked again.

A loop task of the panel (embedded and Redis modes alike: the panel dispatches, a worker checks). It looks every
minute (or every interval, when shorter) for references in use whose answer is missing or older than the interval —
a container made from a new image, a result cleared by a pull — and dispatches one check job per endpoint for those,
unless a check of that endpoint is already queued or running. A failed dispatch is logged and tried at the next look.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from core.updates.results import UpdateResults

log = logging.getLogger(__name__)
LOOK_SECONDS = 60.0  # at most this long between looks for references that are due

Dispatch = Callable[[str, list[str]], Awaitable[object]]  # (endpoint, references) → queues the check


class UpdateSchedule:
    def __init__(
        self, results: UpdateResults, dispatch: Dispatch, *, minutes: float, endpoints: Callable[[], list[str]]
    ) -> None:
        self.results = results
        self.dispatch = dispatch
        self.interval = minutes * 60  # seconds; 0: no schedule
        self.endpoints = endpoints
        self._task: asyncio.Task[None] | None = None

    @property
    def look_seconds(self) -> float:
        return min(LOOK_SECONDS, self.interval)

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        if self.interval > 0 and self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def look(self) -> int:
        """Dispatches a check of what is due on each endpoint that has no check under way; returns how many."""
        dispatched = 0
        for endpoint in self.endpoints():
            if self.results.checking(endpoint):
                continue
            due = self.results.due(endpoint, self.interval)
            if not due:
                continue
            try:
                await self.dispatch(endpoint, due)
                dispatched += 1
            except Exception as error:  # a refusal or a broken queue: logged, tried again at the next look
                log.warning('could not queue the update check of %s: %s', endpoint, error)
        return dispatched

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.look_seconds)
            try:
                await self.look()
            except Exception:
                log.exception('update schedule failed')
