"""The usage sampler against the real engine: a busy container's figures, read through the panel's own services."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from system import Services
from tests.support.eventually import eventually


async def test_a_busy_containers_cpu_and_memory_are_above_zero(
    services: Services, make_container: Callable[..., str]
) -> None:
    # Given a container that keeps half a CPU busy, and one that sleeps
    busy = make_container(
        name=f'bt-dash-busy-{uuid.uuid4().hex[:8]}', command='dd if=/dev/zero of=/dev/null', extra=['--cpus', '0.5']
    )
    idle = make_container(name=f'bt-dash-idle-{uuid.uuid4().hex[:8]}', start=False)
    await eventually(lambda: (row := services.state.find(busy)) is not None and row.state == 'running', what='running')
    busy_id, idle_id = services.state.find(busy).id, services.state.find(idle).id  # type: ignore[union-attr]
    # When a page wants figures for both
    want = services.usage.want('test', [busy_id, idle_id])
    # Then the running one gets figures from the daemon (CPU % of one CPU, memory without the page cache)
    await eventually(lambda: busy_id in services.usage.samples, 30, 'a figure for the busy container')
    usage = services.usage.samples[busy_id]
    # (more than 1 %: a read without precpu_stats would give about 0.002 %, from the host's whole uptime)
    assert 1 < usage.cpu_percent <= 100 and usage.memory_used > 0 and usage.memory_limit >= usage.memory_used
    # And the stopped one is never read
    assert idle_id not in services.usage.samples
    want.release()
