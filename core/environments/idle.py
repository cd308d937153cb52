"""Idle stop: a running dev environment with no open terminal and no exec activity for its idle timeout (the
``berth.idle_minutes`` label, from its template) is stopped by a job the panel dispatches as the system.

Activity is what the panel sees: its own terminal sessions (``Terminals``: open ones keep the environment in use, and
each opening, keystroke and closing counts), and the engine's exec events for the container (``exec_start`` to
``exec_die``: an exec running keeps it in use; each event counts) through the event watcher. Idle time counts from the
latest activity, the container's start, or the panel's own start (what happened before a restart is not known).
The length of a minute is an argument, so that a test can make minutes of a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from core.environments.environment import Environment, environments
from core.state.containers import ContainerRow, parse_time
from core.state.model import ChangeKind, DockerState, StateChange

log = logging.getLogger(__name__)

RUNNING = ('running', 'restarting')  # a paused environment is not stopped for idleness: someone paused it on purpose
RETRY_SECONDS = 300.0  # a stop that did not happen (failed job) is asked again after this


class TerminalActivity(Protocol):
    """What the panel's terminal sessions tell (``core.streams.exec_session.Terminals``)."""

    def open_count(self, container_id: str) -> int: ...

    def last_activity(self, container_id: str) -> float: ...


@dataclass(kw_only=True, slots=True, frozen=True)
class Idleness:
    """Where one running environment stands: its timeout, how long it has been idle, how long it has left."""

    minutes: int  # the idle timeout
    idle_seconds: float  # 0 while in use
    left_seconds: float
    in_use: bool  # a terminal is open, or an exec runs

    @property
    def due(self) -> bool:
        return not self.in_use and self.left_seconds <= 0


def idleness(*, minutes: int, minute_seconds: float, now: float, last_activity: float, in_use: bool) -> Idleness | None:
    """The rule: None when the environment is never stopped for idleness (``minutes`` 0); else idle since
    ``last_activity`` unless in use, due once idle for ``minutes`` minutes of ``minute_seconds``."""
    if minutes <= 0:
        return None
    idle = 0.0 if in_use else max(0.0, now - last_activity)
    return Idleness(
        minutes=minutes, idle_seconds=idle, left_seconds=max(0.0, minutes * minute_seconds - idle), in_use=in_use
    )


StopIdle = Callable[[ContainerRow, int], Awaitable[object]]  # (the container, its idle minutes): dispatches the stop


class IdleWatch:
    """Follows activity and stops idle environments (``stop`` dispatches the job); lives on the event loop."""

    def __init__(
        self,
        state: DockerState,
        terminals: TerminalActivity,
        stop: StopIdle,
        *,
        minute_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state = state
        self.terminals = terminals
        self.stop_idle = stop
        self.minute_seconds = minute_seconds
        self.clock = clock
        self.check_seconds = max(0.2, min(15.0, minute_seconds / 4))
        self.started_at = clock()
        self.exec_seen: dict[str, float] = {}  # container id → the latest exec event
        self.execs_open: dict[str, set[str]] = {}  # container id → execs started and not ended
        self.asked: dict[str, float] = {}  # container id → when its idle stop was dispatched
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: list[Callable[[], None]] = []

    def start(self) -> None:
        """Counts idle time from now, follows the exec events and checks every ``check_seconds`` (on the loop)."""
        if self._task is not None:
            return
        self.started_at = self.clock()
        self._unsubscribe = [self.state.on_exec(self.on_exec), self.state.subscribe(self.on_state)]
        self._task = asyncio.get_running_loop().create_task(self._run(), name='berth idle watch')

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def on_exec(self, container_id: str, action: str, exec_id: str) -> None:
        self.exec_seen[container_id] = self.clock()
        if not exec_id:
            return
        if action == 'exec_start':
            self.execs_open.setdefault(container_id, set()).add(exec_id)
        elif action == 'exec_die':
            self.execs_open.get(container_id, set()).discard(exec_id)

    def on_state(self, change: StateChange) -> None:
        """A container that stops or goes ends its execs; after a resync nothing is known of the ones before."""
        if change.kind == ChangeKind.RESET:
            self.execs_open.clear()
        elif change.kind in (ChangeKind.UPSERT, ChangeKind.REMOVE):
            row = self.state.containers.get(change.container_id)
            if row is None or row.state not in RUNNING:
                self.execs_open.pop(change.container_id, None)
                self.asked.pop(change.container_id, None)

    def of(self, environment: Environment) -> Idleness | None:
        """Where ``environment`` stands now; None when it is not running or never stopped for idleness."""
        row = environment.row
        if row.state not in RUNNING:
            return None
        started = parse_time(row.started_at)
        last = max(
            self.started_at,
            started.timestamp() if started else 0.0,
            self.exec_seen.get(row.id, 0.0),
            self.terminals.last_activity(row.id),
        )
        in_use = self.terminals.open_count(row.id) > 0 or bool(self.execs_open.get(row.id))
        return idleness(
            minutes=environment.idle_minutes,
            minute_seconds=self.minute_seconds,
            now=self.clock(),
            last_activity=last,
            in_use=in_use,
        )

    async def check(self) -> None:
        """Dispatches a stop for each environment whose idle time is up (once; again after RETRY_SECONDS)."""
        now = self.clock()
        for environment in environments(self.state.containers.values()):
            row = environment.row
            state = self.of(environment)
            if state is None or not state.due or now - self.asked.get(row.id, -RETRY_SECONDS) < RETRY_SECONDS:
                continue
            self.asked[row.id] = now
            try:
                await self.stop_idle(row, environment.idle_minutes)
            except Exception:  # the job store or the queue said no: asked again later
                log.exception('could not stop the idle environment %s', row.name)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.check_seconds)
            try:
                await self.check()
            except Exception:  # one bad round must not end idle stops for good
                log.exception('idle check failed')
