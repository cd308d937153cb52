"""Container logs without UI (flow 3): LogFollower reads the daemon's log streams in threads and hands over batches.

Each followed container gets one reader thread per run of it (see ``log_reader``: stdout and stderr told apart,
timestamps kept). After a stop, a restart or a recreation the next reader starts after the last line seen, so nothing
is shown twice. Batches reach ``on_lines`` on the event loop a few ms apart, in time order across containers.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import docker.errors

from core.docker.client import describe_error
from core.docker.endpoints import Endpoint
from core.handover import hand_over
from core.state.containers import ContainerRow, ContainerState
from core.state.model import CONTAINER_CHANGES, ChangeKind, DockerState, StateChange
from core.streams.engine_gone import ENGINE_GONE, is_engine_gone
from core.streams.log_buffer import VIEW_CHARS, LineBuffer
from core.streams.log_decode import MARKER, LogLine, timestamp_key
from core.streams.log_reader import LogReader, ReaderStart

log = logging.getLogger(__name__)

RECHECK_SECONDS = 3.0  # a stream that ended while the state still says "running": follow again if it stays so
LinesCallback = Callable[[list[LogLine], int], None]
"""Called with time-ordered new lines and the number of lines dropped (not delivered) since the last call."""


@dataclass(kw_only=True, slots=True)
class _Target:
    name: str
    container_id: str = ''
    started_at: str = ''
    was_running: bool = False
    last_timestamp: str = ''
    same_count: int = 0
    reader: LogReader | None = None
    stale: bool = False  # the stream ended with an error: reopen when the engine is back
    removed: bool = False


class LogFollower:
    """Follows the logs of one or more containers (by name, so a recreated container is followed too).

    Create and use it on the event loop. ``start`` opens the streams, ``stop`` closes them (the view keeps its
    lines), ``resume`` continues where ``stop`` left off, ``close`` also forgets the state subscription.
    """

    def __init__(
        self,
        *,
        state: DockerState,
        endpoint: Endpoint,
        names: list[str],
        on_lines: LinesCallback,
        tail: int | None = 500,
        since: float | None = None,
        batch_seconds: float = 0.01,
        max_pending: int = 10_000,
        max_pending_chars: int = VIEW_CHARS,
        history_wait: float = 2.0,
    ) -> None:
        self.state = state
        self.endpoint = endpoint
        self.on_lines = on_lines
        self.tail = tail
        self.since = since
        self.batch_seconds = batch_seconds
        self.history_wait = history_wait
        self._targets = {name: _Target(name=name) for name in dict.fromkeys(names)}
        self._lock = threading.Lock()
        self._pending = LineBuffer(max_lines=max_pending, max_chars=max_pending_chars)  # under _lock
        self._dropped = 0
        self._scheduled = False
        self._flush_handle: asyncio.TimerHandle | None = None
        self._history_deadline = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._following = False
        self._api_version: str | None = None

    @property
    def following(self) -> bool:
        return self._following

    @property
    def names(self) -> list[str]:
        return list(self._targets)

    @property
    def open_streams(self) -> int:
        """How many reader threads this follower has running right now."""
        return sum(1 for target in self._targets.values() if target.reader is not None and target.reader.is_alive())

    def start(self) -> None:
        """Opens a stream per container: the last ``tail`` lines (or those since ``since``), then live lines."""
        self._loop = asyncio.get_running_loop()
        if self._unsubscribe is None:
            self._unsubscribe = self.state.subscribe(self._on_state)
        self._following = True
        for target in self._targets.values():
            self._open(target, fresh=True)

    def add(self, name: str) -> None:
        """Follows one more container (e.g. a new member of a compose project)."""
        if name not in self._targets:
            target = self._targets[name] = _Target(name=name)
            if self._following:
                self._open(target, fresh=True)

    def stop(self) -> None:
        """Stops following: closes every stream (their threads end); lines already read are still delivered."""
        self._following = False
        for target in self._targets.values():
            self._detach(target)
        self._flush()

    def resume(self) -> None:
        """Follows again from where each stream stopped (lines printed meanwhile are caught up, none twice)."""
        if self._following or self._loop is None:
            return
        self._following = True
        for target in self._targets.values():
            self._open(target, fresh=False)

    def close(self) -> None:
        """Stops and unsubscribes; the follower cannot be resumed afterwards."""
        self.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self._loop = None

    # --- opening and closing streams (event loop) ---

    def _open(self, target: _Target, *, fresh: bool) -> None:
        row = self.state.find(target.name, self.endpoint.id)
        if row is None:
            self._marker(target, f'— no container named {target.name} right now; waiting for it —')
            target.removed = True
            return
        new_instance = bool(target.container_id) and row.id != target.container_id
        if new_instance:
            target.last_timestamp, target.same_count = '', 0
        target.container_id, target.started_at, target.removed, target.stale = row.id, row.started_at, False, False
        target.was_running = row.state in (ContainerState.RUNNING, ContainerState.PAUSED, ContainerState.RESTARTING)
        if fresh:
            start = ReaderStart(tail=self.tail, since=self.since)
        elif target.last_timestamp:
            start = ReaderStart(since_timestamp=target.last_timestamp, skip=target.same_count)
        else:
            start = ReaderStart(tail=None, since=self.since)
        self._detach(target)
        target.reader = LogReader(
            endpoint=self.endpoint,
            container_id=row.id,
            name=target.name,
            start=start,
            push=self._push,
            ended=self._reader_ended_threadsafe,
            api_version=self._api_version,
            history_first=len(self._targets) > 1,
        )
        self._history_deadline = time.monotonic() + self.history_wait
        target.reader.start()

    def _detach(self, target: _Target) -> None:
        reader, target.reader = target.reader, None
        if reader is not None:
            self._api_version = reader.api_version or self._api_version
            with self._lock:
                reader.stopped = True
                target.last_timestamp, target.same_count = reader.last_timestamp, reader.same_count
            reader.close()

    def _reader_ended_threadsafe(self, reader: LogReader, error: BaseException | None) -> None:
        self._call_soon(self._reader_ended, reader, error)

    def _reader_ended(self, reader: LogReader, error: BaseException | None) -> None:
        target = self._targets.get(reader.container_name)
        if target is None or target.reader is not reader:
            return  # stopped or replaced meanwhile
        self._detach(target)
        if not self._following:
            return
        self._flush()
        if error is not None:
            message = describe_error(error)
            if isinstance(error, docker.errors.NotFound):
                target.removed = True
                self._marker(target, '— container removed —')
            elif is_engine_gone(error):
                target.stale = True
                self._marker(target, f'— {ENGINE_GONE}: following again once it is back —')
            else:
                target.stale = True
                self._marker(target, f'— log stream interrupted: {message} —')
            return
        row = self.state.find(target.name, self.endpoint.id)
        if row is not None and row.state == ContainerState.RUNNING and self._is_new_run(target, row):
            self._restart(target, row)
            return
        self._marker(target, '— container stopped —' if target.was_running else '— container is not running —')
        if row is not None and row.state == ContainerState.RUNNING and self._loop is not None:
            # the daemon ends a follow when the container stops, usually before its 'die' event reaches the state
            self._loop.call_later(RECHECK_SECONDS, self._recheck, target)

    def _recheck(self, target: _Target) -> None:
        row = self.state.find(target.name, self.endpoint.id)
        if self._following and target.reader is None and row is not None and row.state == ContainerState.RUNNING:
            target.stale = True
            self._restart(target, row)

    def _on_state(self, change: StateChange) -> None:
        if not self._following or change.kind not in CONTAINER_CHANGES:
            return
        for target in list(self._targets.values()):
            row = self.state.find(target.name, self.endpoint.id)
            if row is None:
                if (
                    not target.removed
                    and change.kind == ChangeKind.REMOVE
                    and change.container_id == target.container_id
                ):
                    target.removed = True
                    self._flush()
                    self._marker(target, '— container removed —')
                continue
            if target.reader is not None or row.state != ContainerState.RUNNING:
                continue
            if target.stale or target.removed or self._is_new_run(target, row):
                self._restart(target, row)

    def _restart(self, target: _Target, row: ContainerRow) -> None:
        if target.stale and row.id == target.container_id and row.started_at == target.started_at:
            text = '— following again —'
        elif row.id != target.container_id:
            text = '— container recreated —'
        else:
            text = '— container restarted —' if target.was_running else '— container started —'
        self._marker(target, text)
        self._open(target, fresh=False)

    @staticmethod
    def _is_new_run(target: _Target, row: ContainerRow) -> bool:
        return row.id != target.container_id or row.started_at != target.started_at

    # --- handing lines over (reader threads → event loop) ---

    def _push(
        self, reader: LogReader, lines: list[LogLine], last_timestamp: str, same_count: int, history_done: bool
    ) -> bool:
        """Called from a reader thread; False tells the reader it was stopped."""
        with self._lock:
            if reader.stopped:
                return False
            reader.last_timestamp, reader.same_count = last_timestamp, same_count
            reader.history_done = reader.history_done or history_done
            self._dropped += self._pending.extend(lines)
            wake = not self._scheduled and bool(self._pending)
            self._scheduled = self._scheduled or wake
        if wake:
            self._call_soon(self._schedule_flush)
        return True

    def _call_soon(self, function: Callable[..., None], *args: object) -> None:
        hand_over(self._loop, function, *args)

    def _schedule_flush(self) -> None:
        if self._flush_handle is None and self._loop is not None:
            self._flush_handle = self._loop.call_later(self.batch_seconds, self._timed_flush)

    def _timed_flush(self) -> None:
        self._flush_handle = None
        if self._waiting_for_history() and time.monotonic() < self._history_deadline:
            self._schedule_flush()  # several containers: their histories are merged in time order first
            return
        self._flush()

    def _waiting_for_history(self) -> bool:
        readers = [target.reader for target in self._targets.values() if target.reader is not None]
        return len(self._targets) > 1 and any(not reader.history_done and reader.is_alive() for reader in readers)

    def _flush(self) -> None:
        with self._lock:
            batch = self._pending.take()
            dropped, self._dropped = self._dropped, 0
            self._scheduled = False
        if len(self._targets) > 1 and len(batch) > 1:
            batch.sort(key=lambda line: timestamp_key(line.timestamp))
        if batch or dropped:
            self._deliver(batch, dropped)

    def _marker(self, target: _Target, text: str) -> None:
        self._deliver([LogLine(target.name, MARKER, target.last_timestamp, text)], 0)

    def _deliver(self, lines: list[LogLine], dropped: int) -> None:
        try:
            self.on_lines(lines, dropped)
        except Exception:  # a broken view must not break the follower's bookkeeping
            log.exception('log view failed to take lines')
