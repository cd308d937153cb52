"""What the panel has made by the time it starts is kept out of the garbage collector's full passes."""

from __future__ import annotations

import gc

from core.memory import freeze_startup_objects


def test_the_objects_alive_at_start_up_are_frozen_out_of_the_collector_s_passes() -> None:
    alive = ['started']  # stands for the modules, classes and services of a started panel
    try:
        frozen = freeze_startup_objects()
        assert frozen == gc.get_freeze_count() > 0
        assert not any(tracked is alive for tracked in gc.get_objects())  # a full pass no longer walks them
    finally:
        gc.unfreeze()
