"""core.docker.engine_facts: engine facts (read once a minute) and disk usage counted as ``docker system df``."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from core.docker.engine_facts import disk_usage
from core.docker.reads import EngineReads

INFO = {
    'Name': 'host-1',
    'ServerVersion': '20.10.24',
    'OperatingSystem': 'Debian GNU/Linux 12 (bookworm)',
    'KernelVersion': '6.1.0',
    'Architecture': 'x86_64',
    'NCPU': 2,
    'MemTotal': 4_000_000_000,
    'Driver': 'overlay2',
    'Runtimes': {'runsc': {}, 'runc': {}},
    'DefaultRuntime': 'runc',
}
VERSION = {'Version': '20.10.24', 'ApiVersion': '1.41'}
DF: dict[str, Any] = {
    'LayersSize': 1000,
    'Images': [
        {'Id': 'sha256:a', 'Size': 600, 'SharedSize': 100, 'Containers': 2},  # 500 of its own are in use
        {'Id': 'sha256:b', 'Size': 300, 'SharedSize': 100, 'Containers': 0},
        {'Id': 'sha256:c', 'Size': 200, 'SharedSize': 0, 'Containers': 0},
    ],
    'Containers': [
        {'Id': '1', 'State': 'running', 'SizeRw': 10},
        {'Id': '2', 'State': 'paused', 'SizeRw': 20},
        {'Id': '3', 'State': 'exited', 'SizeRw': 40},
        {'Id': '4', 'State': 'created'},
    ],
    'Volumes': [
        {'Name': 'used', 'UsageData': {'RefCount': 1, 'Size': 7}},
        {'Name': 'free', 'UsageData': {'RefCount': 0, 'Size': 5}},
        {'Name': 'unmeasured', 'UsageData': {'RefCount': 0, 'Size': -1}},
    ],
    'BuildCache': [
        {'ID': 'x', 'Size': 50, 'InUse': True, 'Shared': False},
        {'ID': 'y', 'Size': 30, 'InUse': False, 'Shared': False},
        {'ID': 'z', 'Size': 99, 'InUse': False, 'Shared': True},
    ],
}


def test_disk_usage_counts_like_docker_system_df() -> None:
    images, containers, volumes, cache = disk_usage(DF)
    assert (images.total, images.active, images.size, images.reclaimable) == (3, 1, 1000, 500)
    assert (containers.total, containers.active, containers.size, containers.reclaimable) == (4, 2, 70, 40)
    assert (volumes.total, volumes.active, volumes.size, volumes.reclaimable) == (3, 1, 12, 5)
    assert (cache.total, cache.active, cache.size, cache.reclaimable) == (3, 1, 80, 30)
    assert images.in_use == 500
    assert [kind.size for kind in disk_usage({})] == [0, 0, 0, 0]


async def test_engine_facts_are_read_once_a_minute_and_shared() -> None:
    calls: list[str] = []

    def info() -> dict[str, Any]:
        calls.append('info')
        return INFO

    api = SimpleNamespace(info=info, version=lambda: VERSION)
    reads = EngineReads(lambda: SimpleNamespace(api=api))  # type: ignore[arg-type,return-value]
    first, second = await asyncio.gather(reads.engine_facts(), reads.engine_facts())
    assert first is second and calls == ['info']
    assert (first.version, first.api_version, first.cpus, first.storage_driver) == ('20.10.24', '1.41', 2, 'overlay2')
    assert first.runtimes == ('runc', 'runsc') and first.os.startswith('Debian')
