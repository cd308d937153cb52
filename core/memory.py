"""Big buffers go back to the system once freed; the objects made at start-up stay out of the collector's way.

glibc serves an allocation above its mmap threshold with a mapping of its own and unmaps it on free, but it raises the
threshold to the size of every such block freed (up to 32 MB). After that, the buffers of a terminal or log flood
(tens to hundreds of kB each: text, JSON, socket frames) come from the heap, which fragments and keeps them after the
flood: measured with 8 flooding terminals, 40 MB more after they were closed than with a fixed threshold.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import logging

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # mallopt parameter, glibc's malloc.h
THRESHOLD = 64 * 1024
TRIM_SECONDS = 10.0  # how often free memory is handed back (return_free_memory: about a millisecond)


def return_big_buffers(threshold: int = THRESHOLD) -> bool:
    """Fixes glibc's mmap threshold, so blocks of ``threshold`` bytes and more are unmapped when freed. True when it
    took effect; does nothing (False) with another C library."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library('c')).mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    done = bool(mallopt(M_MMAP_THRESHOLD, threshold))
    if not done:
        log.warning('could not set the malloc mmap threshold')
    return done


def freeze_startup_objects() -> int:
    """Moves every object alive now (modules, classes, functions, the services: some 140 000 once the panel has
    started) out of the garbage collector's generations, so that its full passes only walk what was made since.
    Under bench/load.py a full pass over them held the event loop for a quarter of a second, the largest of the
    event-to-browser delays. Called once the panel has started; returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def return_free_memory() -> bool:
    """glibc's ``malloc_trim(0)``: the free memory its heaps keep (every thread's arena) goes back to the system.
    After the soak of bench/load.py (pages, terminals and log follows opened and closed, the Python objects they made
    all gone: tracemalloc's count was back at its baseline) it handed back ~6 MB in about a millisecond. True when
    something was returned; False with another C library."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library('c')).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return False
    trim.argtypes = [ctypes.c_size_t]
    return bool(trim(0))


async def keep_returning_free_memory(every: float = TRIM_SECONDS) -> None:
    """:func:`return_free_memory` every ``every`` seconds, off the event loop, until cancelled."""
    while True:
        await asyncio.sleep(every)
        await asyncio.to_thread(return_free_memory)
