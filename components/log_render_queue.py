"""RenderQueue: one view's log lines → filtered, rendered HTML, in order, without holding the event loop.

A text filter is a user's pattern: matching it always happens in worker threads (``run.io_bound``), a slice of at
most ``SLICE_CHARS`` characters per call, so one call never holds a worker for long, other work (Docker calls, other
viewers) gets the threads in between, and a newer filter abandons an older one at the next slice. Without a filter a
small batch (the live path) is rendered on the loop: cheaper than a thread hop. Batches leave in the order they came.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from nicegui import background_tasks, run

from core.streams.log_buffer import LineBuffer
from core.streams.log_decode import LogLine

from .log_render import LineFilter, Pattern, render_lines

INLINE_CHARS = 256 * 1024  # an unfiltered batch up to this size is rendered on the loop
SLICE_CHARS = 64 * 1024  # characters per worker call: RE2 is linear, so this bounds each call's time
Send = Callable[[list[str], bool], None]
Tag = Callable[[LogLine], int | None]
T = TypeVar('T')


@dataclass(kw_only=True, slots=True)
class _Job:
    lines: LineBuffer  # appends arriving while the job waits join it; bounded like the view
    replace: bool
    line_filter: LineFilter
    pattern: Pattern | None


class RenderQueue:
    """Renders batches for one view and hands them to ``send(html, replace)`` in order."""

    def __init__(self, *, send: Send, tag: Tag, max_lines: int, max_chars: int) -> None:
        self.send = send
        self.tag = tag
        self.max_lines = max_lines
        self.max_chars = max_chars
        self.closed = False
        self._jobs: deque[_Job] = deque()
        self._busy = False
        self._generation = 0

    @property
    def idle(self) -> bool:
        return not self._busy and not self._jobs

    def append(self, lines: list[LogLine], line_filter: LineFilter, pattern: Pattern | None) -> None:
        """New lines after what was sent before."""
        if self.idle and not line_filter.text and characters(lines) <= INLINE_CHARS:
            self.send(render_lines(lines, line_filter, pattern, self.tag), False)
            return
        last = self._jobs[-1] if self._jobs else None
        if last is not None and last.line_filter == line_filter:
            last.lines.extend(lines)
            return
        self._queue(lines, replace=False, line_filter=line_filter, pattern=pattern)

    def replace(self, lines: list[LogLine], line_filter: LineFilter, pattern: Pattern | None) -> None:
        """Everything shown is replaced by ``lines``: what is queued or being rendered is abandoned."""
        self._generation += 1
        self._jobs.clear()
        if not self._busy and not line_filter.text and characters(lines) <= INLINE_CHARS:
            self.send(render_lines(lines, line_filter, pattern, self.tag), True)
            return
        self._queue(lines, replace=True, line_filter=line_filter, pattern=pattern)

    def close(self) -> None:
        self.closed = True
        self._jobs.clear()

    def _queue(self, lines: list[LogLine], *, replace: bool, line_filter: LineFilter, pattern: Pattern | None) -> None:
        buffer = LineBuffer(max_lines=self.max_lines, max_chars=self.max_chars)
        buffer.extend(lines)
        self._jobs.append(_Job(lines=buffer, replace=replace, line_filter=line_filter, pattern=pattern))
        if not self._busy:
            self._busy = True
            background_tasks.create(self._drain(), name='render log lines')

    async def _drain(self) -> None:
        try:
            while self._jobs and not self.closed:
                await self._render(self._jobs.popleft())
        finally:
            self._busy = False

    async def _render(self, job: _Job) -> None:
        generation = self._generation

        def abandoned() -> bool:
            return self.closed or self._generation != generation

        work = partial(render_lines, line_filter=job.line_filter, pattern=job.pattern, tag=self.tag)
        html = await in_slices(job.lines.take(), work, until=abandoned)
        if html is not None and not abandoned():
            self.send(html, job.replace)


async def in_slices(
    lines: list[LogLine], work: Callable[[list[LogLine]], list[T]], *, until: Callable[[], bool] = lambda: False
) -> list[T] | None:
    """``work`` over ``lines`` in worker threads, one slice of ``SLICE_CHARS`` per call; None if ``until()`` became
    true between slices (or the app is stopping)."""
    out: list[T] = []
    for part in slices(lines):
        result = await run.io_bound(work, part)
        if result is None or until():
            return None
        out.extend(result)
    return out


def slices(lines: list[LogLine], size: int = SLICE_CHARS) -> Iterator[list[LogLine]]:
    start = count = 0
    for index, line in enumerate(lines):
        count += len(line.text)
        if count >= size:
            yield lines[start : index + 1]
            start, count = index + 1, 0
    if start < len(lines):
        yield lines[start:]


def characters(lines: list[LogLine]) -> int:
    return sum(len(line.text) for line in lines)
