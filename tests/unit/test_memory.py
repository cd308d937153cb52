"""What the panel has made by the time it starts is kept out of the garbage collector's full passes."""

from __future__ import annotations

import gc
import os

from core.memory import freeze_startup_objects, return_free_memory


def test_the_objects_alive_at_start_up_are_frozen_out_of_the_collector_s_passes() -> None:
    alive = ['started']  # stands for the modules, classes and services of a started panel
    try:
        frozen = freeze_startup_objects()
        assert frozen > 0 and gc.get_freeze_count() > 0  # (other threads may free frozen objects meanwhile)
        assert not any(tracked is alive for tracked in gc.get_objects())  # a full pass no longer walks them
    finally:
        gc.unfreeze()


def rss_bytes() -> int:
    with open('/proc/self/statm') as statm:
        return int(statm.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def test_free_memory_the_heap_kept_goes_back_to_the_system() -> None:
    # Given 40 MB of small blocks (below the mmap threshold: from the heap), every other one freed: holes in the heap,
    # which glibc keeps (a free at the heap's top would be handed back at once)
    blocks = [bytearray(16 * 1024) for _ in range(2560)]
    kept = blocks[::2]
    del blocks
    before = rss_bytes()
    # When the free memory is returned
    returned = return_free_memory()
    # Then glibc handed pages back, and the process holds less
    assert returned
    assert rss_bytes() < before - 8 * 1024 * 1024
    assert len(kept) == 1280
