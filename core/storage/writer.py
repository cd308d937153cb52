"""One thread per database that writes the job and audit rows in the order they were submitted: the event loop only
enqueues (a PostgreSQL round trip, or a wait for SQLite's lock, never happens on it for these writes).

Every statement or query through a :class:`~core.storage.database.Database` of this process first waits for the
writes submitted before it (:func:`flush_all`), so whoever records something and then reads it (the audit page, a
job's history, a test) finds it there.

When the database cannot be reached (the backend says so: :meth:`Database.unreachable`), the writes wait in memory,
oldest first, and the oldest is tried again every few seconds until it goes through; their order is kept. At most
``MAX_PENDING`` writes wait: more are dropped, and the log counts them. A write the database refuses for any other
reason (a constraint, a statement it cannot run) is logged and dropped, and the writer goes on with the next one.
Stopping writes what is queued, waiting at most ``STOP_SECONDS`` for a database that does not answer; what is left
then is lost, and the log says how much.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.storage.errors import DatabaseUnreachable, first_line

if TYPE_CHECKING:
    from core.storage.database import Database

log = logging.getLogger(__name__)
FailingListener = Callable[[str | None], None]  # why the database takes no writes, or None when it takes them again
MAX_PENDING = 10_000
FLUSH_SECONDS = 10.0
STOP_SECONDS = 10.0
RETRY_SECONDS = (0.5, 5.0)  # the first and the longest wait before trying a write again
IDLE_SECONDS = 5.0  # an idle writer's thread ends; the next write starts another

_writers: weakref.WeakSet[DatabaseWriter] = weakref.WeakSet()
_writer_thread = threading.local()


@dataclass(slots=True)
class _Write:
    sequence: int
    what: str  # for the log: 'job 3f2a…', 'the audit entry container.stop web by olga'
    statement: Callable[[Database], object]


class DatabaseWriter:
    """A queue of writes and the one thread that performs them, in order; see the module's description."""

    def __init__(
        self,
        database: Database,
        *,
        max_pending: int = MAX_PENDING,
        retry_seconds: tuple[float, float] = RETRY_SECONDS,
    ) -> None:
        self.database = database
        self.max_pending = max_pending
        self.retry_seconds = retry_seconds
        self._condition = threading.Condition()
        self._pending: deque[_Write] = deque()
        self._submitted = 0  # the sequence number of the last write submitted
        self._done = 0  # ... and of the last one written (or given up)
        self._failing: str | None = None  # why the database cannot be reached, while it cannot
        self._dropped = 0  # writes refused because too many were waiting, in this outage
        self._give_up_by: float | None = None  # set by stop()
        self._thread: threading.Thread | None = None
        self._listeners: list[FailingListener] = []
        _writers.add(self)

    def subscribe(self, listener: FailingListener) -> Callable[[], None]:
        """``listener(reason)`` when the database stops taking writes, ``listener(None)`` when it takes them again;
        called in the writer's thread (hand over to the loop). Returns the unsubscribe."""
        with self._condition:
            self._listeners.append(listener)
        return lambda: self._unsubscribe(listener)

    def _unsubscribe(self, listener: FailingListener) -> None:
        with self._condition:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _set_failing(self, reason: str | None) -> None:
        """With the condition held."""
        changed = (reason is None) != (self._failing is None)
        self._failing = reason
        if changed:
            for listener in list(self._listeners):
                try:
                    listener(reason)
                except Exception:  # a page's listener must never stop the writer
                    log.exception('a listener of the database writer failed')

    def execute(self, sql: str, parameters: tuple[Any, ...] = (), *, what: str = 'a row') -> None:
        """Queues one statement; returns at once."""
        self._submit(what, lambda database: database.execute(sql, parameters))

    def upsert(self, table: str, key: str, row: dict[str, Any], *, what: str = '') -> None:
        """Queues an insert-or-update of ``row`` (see :meth:`Database.upsert`); returns at once."""
        self._submit(what or f'a row of {table}', lambda database: database.upsert(table, key, row))

    @property
    def pending(self) -> int:
        """How many writes wait (including the one being written)."""
        with self._condition:
            return len(self._pending)

    @property
    def failing(self) -> str | None:
        """Why the database cannot be reached (the writes wait in memory), or None."""
        with self._condition:
            return self._failing

    def flush(self, timeout: float | None = FLUSH_SECONDS) -> bool:
        """Waits until every write submitted before this call is done (written, or refused by the database).

        False when the database cannot be reached (the writes wait in memory; waiting would not help) or after
        ``timeout`` seconds. Returns at once in a writer's own thread."""
        if getattr(_writer_thread, 'active', False):
            return True
        with self._condition:
            target = self._submitted
            self._condition.wait_for(lambda: self._done >= target or self._failing is not None, timeout)
            return self._done >= target

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Writes what is queued and ends the thread; gives up on a database that does not answer within ``timeout``
        seconds (the writes left are logged as lost). A later write starts the thread again."""
        with self._condition:
            thread = self._thread
            if thread is None:
                return
            self._give_up_by = time.monotonic() + timeout
            self._condition.notify_all()
        thread.join(timeout + STOP_SECONDS)  # the statement under way may take its own time (a connect timeout)
        with self._condition:
            if self._thread is thread and thread.is_alive():
                log.error(
                    'stopped waiting for the database writer: %d writes (jobs, audit entries) may not be written',
                    len(self._pending),
                )
            self._give_up_by = None

    def _submit(self, what: str, statement: Callable[[Database], object]) -> None:
        with self._condition:
            if len(self._pending) >= self.max_pending:
                self._dropped += 1
                if self._dropped == 1 or self._dropped % 1000 == 0:
                    log.error(
                        'the database has not taken a write for a while (%s) and %d writes wait in memory: '
                        '%s is not kept (%d dropped so far)',
                        self._failing or 'slow',
                        len(self._pending),
                        what,
                        self._dropped,
                    )
                return
            self._submitted += 1
            self._pending.append(_Write(self._submitted, what, statement))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name='berth-database-writer', daemon=True)
                self._thread.start()
            self._condition.notify_all()

    def _run(self) -> None:
        _writer_thread.active = True
        delay = self.retry_seconds[0]
        while True:
            with self._condition:
                if not self._pending and self._give_up_by is None:
                    self._condition.wait(IDLE_SECONDS)
                if not self._pending:
                    self._thread = None
                    return
                write = self._pending[0]
            try:
                write.statement(self.database)
            except Exception as error:
                if isinstance(error, DatabaseUnreachable) or self.database.unreachable(error):
                    self._wait_for_the_database(write, _reason(error), _public_reason(error), delay)
                    delay = min(delay * 2, self.retry_seconds[1])
                    continue
                log.error('could not write %s to the database, so it is not kept: %s', write.what, _reason(error))
            delay = self.retry_seconds[0]
            with self._condition:
                self._pending.popleft()
                self._done = write.sequence
                if self._failing is not None:
                    log.warning(
                        'the database answers again: writing the %d writes kept in memory%s',
                        len(self._pending) + 1,
                        f' ({self._dropped} more were dropped)' if self._dropped else '',
                    )
                    self._set_failing(None)
                    self._dropped = 0
                self._condition.notify_all()

    def _wait_for_the_database(self, write: _Write, reason: str, public: str, delay: float) -> None:
        with self._condition:
            if self._failing is None:
                log.warning(
                    'could not write %s to the database (%s): it and the %d writes after it wait in memory and are '
                    'tried again every few seconds',
                    write.what,
                    reason,
                    len(self._pending) - 1,
                )
            self._set_failing(public)  # what pages may show: no address
            self._condition.notify_all()  # whoever waits in flush() goes on without these writes
            if self._give_up_by is not None and time.monotonic() >= self._give_up_by:
                log.error(
                    'stopping without writing %d writes (jobs, audit entries): the database did not answer (%s)',
                    len(self._pending),
                    reason,
                )
                self._pending.clear()
                self._done = self._submitted
                self._set_failing(None)
                self._condition.notify_all()
                return
            self._condition.wait(delay)  # stop() wakes it for one last try


def flush_all(timeout: float | None = FLUSH_SECONDS) -> None:
    """Waits for the writes every writer of this process has queued so far (see :meth:`DatabaseWriter.flush`)."""
    if getattr(_writer_thread, 'active', False):
        return
    for writer in list(_writers):
        writer.flush(timeout)


def _reason(error: Exception) -> str:
    """For the log: the driver's own words."""
    return first_line(error.__cause__ or error) if isinstance(error, DatabaseUnreachable) else first_line(error)


def _public_reason(error: Exception) -> str:
    """For pages: the backend's reason without addresses."""
    return error.reason if isinstance(error, DatabaseUnreachable) else 'it does not answer'
