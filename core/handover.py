"""The one way a thread hands work to the event loop: flows 1, 2 and 3 read Docker and Redis in threads, and the state
model, job store and elements change on the loop only."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


def hand_over(loop: asyncio.AbstractEventLoop | None, function: Callable[..., object], *args: Any) -> bool:
    """Schedules ``function(*args)`` on ``loop`` from any thread; False when there is no loop to run it any more
    (not started yet, or closed because the panel is shutting down), which callers treat as "drop it"."""
    if loop is None or loop.is_closed():
        return False
    try:
        loop.call_soon_threadsafe(function, *args)
    except RuntimeError:  # the loop closed between the check and the call
        return False
    return True
