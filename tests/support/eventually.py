"""Waiting for something to become true: the one polling helper of the tests and benches.

``await eventually(predicate, timeout, what)`` yields to the event loop between checks (the panel or the services
under test run on that loop); ``eventually_sync`` is the same for code without a loop (starting a subprocess and
waiting until it answers). Both return as soon as ``predicate()`` is true and raise ``AssertionError`` naming
``what`` after ``timeout`` seconds. ``what`` may be a callable, called only on failure, to say what was seen last.
An exception from ``predicate`` is not caught: a predicate stops the wait early by raising (a process that died).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable

Description = str | Callable[[], object]


def _timed_out(timeout: float, what: Description) -> AssertionError:
    described = what() if callable(what) else what
    return AssertionError(f'timed out after {timeout} s waiting for: {described}')


async def eventually(
    predicate: Callable[[], object], timeout: float = 15.0, what: Description = 'condition', *, interval: float = 0.05
) -> None:
    """Waits, yielding to the loop every ``interval`` seconds, until ``predicate()`` is true (a coroutine function's
    answer is awaited)."""
    deadline = time.monotonic() + timeout
    while not await _answer(predicate):
        if time.monotonic() > deadline:
            raise _timed_out(timeout, what)
        await asyncio.sleep(interval)


async def _answer(predicate: Callable[[], object]) -> object:
    answer = predicate()
    return await answer if inspect.isawaitable(answer) else answer


def eventually_sync(
    predicate: Callable[[], object], timeout: float = 15.0, what: Description = 'condition', *, interval: float = 0.1
) -> None:
    """Blocks, sleeping ``interval`` seconds between checks, until ``predicate()`` is true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise _timed_out(timeout, what)
        time.sleep(interval)
