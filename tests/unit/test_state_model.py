"""DockerState without an engine: a page opened right after start waits for the first full list."""

from __future__ import annotations

import asyncio

from core.state.containers import ContainerRow
from core.state.model import DockerState


async def test_first_sync_waits_for_the_first_list_and_not_after_it() -> None:
    state = DockerState()
    waiting = asyncio.create_task(state.first_sync(timeout=5))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # no list yet: a page would wrongly say "no such container"
    state.replace_all([ContainerRow(id='a' * 64, name='web', image='x', state='running')])
    await asyncio.wait_for(waiting, 1)
    assert state.find('web') is not None
    await asyncio.wait_for(state.first_sync(timeout=5), 0.1)  # later pages do not wait


async def test_first_sync_gives_up_when_the_engine_is_unreachable_or_slow() -> None:
    state = DockerState()
    waiting = asyncio.create_task(state.first_sync(timeout=5))
    await asyncio.sleep(0.05)
    state.set_engine(False, 'Docker engine unreachable')
    await asyncio.wait_for(waiting, 1)
    await asyncio.wait_for(DockerState().first_sync(timeout=0.05), 1)  # a bounded wait, never a hang
