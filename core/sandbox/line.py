"""The line sandbox runs wait in: at most ``total`` runs at once, at most ``per_user`` of one person's, first come first
served among those that may start. The panel holds it (on its event loop): a run's job message is sent to the sandbox
queue only when the line lets it in, so the worker never holds a message it may not run yet, and the page can say
where a waiting run stands."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)
Send = Callable[[], Coroutine[Any, Any, None]]
Listener = Callable[[], None]


@dataclass(kw_only=True, slots=True)
class Waiting:
    run_id: str
    owner: str
    send: Send


class RunLine:
    def __init__(self, *, total: int, per_user: int) -> None:
        self.total = total
        self.per_user = per_user
        self.waiting: list[Waiting] = []
        self.running: dict[str, str] = {}  # run id → owner
        self._listeners: list[Listener] = []
        self._sending: set[asyncio.Task[None]] = set()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """``listener`` is called after every change (a run joined, started, left)."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def join(self, run_id: str, owner: str, send: Send) -> None:
        """Puts a run at the end of the line; it starts (``send`` is awaited) as soon as the limits allow."""
        self.waiting.append(Waiting(run_id=run_id, owner=owner, send=send))
        self._admit()

    def leave(self, run_id: str) -> bool:
        """The run ended, or was withdrawn before it started; returns True when it was still waiting."""
        before = len(self.waiting)
        self.waiting = [waiting for waiting in self.waiting if waiting.run_id != run_id]
        was_waiting = len(self.waiting) < before
        was_running = self.running.pop(run_id, None) is not None
        if was_waiting or was_running:
            self._admit()
        return was_waiting

    def position(self, run_id: str) -> int | None:
        """1 for the first waiting run, …; None when the run is not waiting."""
        for index, waiting in enumerate(self.waiting, start=1):
            if waiting.run_id == run_id:
                return index
        return None

    def running_of(self, owner: str) -> int:
        return sum(1 for running_owner in self.running.values() if running_owner == owner)

    def why_waiting(self, run_id: str) -> str:
        """'3rd in line: 4 runs are running (at most 4 at once)' — a sentence for the status line."""
        position = self.position(run_id)
        if position is None:
            return ''
        owner = self.waiting[position - 1].owner
        place = f'{ordinal(position)} in line'
        if self.running_of(owner) >= self.per_user:
            return f'{place}: your other runs are running (at most {self.per_user} of yours at once)'
        return f'{place}: {len(self.running)} runs are running (at most {self.total} at once)'

    def _admit(self) -> None:
        for waiting in list(self.waiting):
            if len(self.running) >= self.total:
                break
            if self.running_of(waiting.owner) >= self.per_user:
                continue  # this person waits for their own runs; the others behind them need not
            self.waiting.remove(waiting)
            self.running[waiting.run_id] = waiting.owner
            task: asyncio.Task[None] = asyncio.get_running_loop().create_task(waiting.send())
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # one page's mistake must not stop the line
                log.exception('a run line listener failed')


def ordinal(number: int) -> str:
    suffix = 'th' if 10 <= number % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th')
    return f'{number}{suffix}'
