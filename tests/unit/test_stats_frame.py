"""core.streams.stats_frame: the figures of one stats frame, computed as ``docker stats`` computes them."""

from __future__ import annotations

import pytest

from core.streams.stats_frame import StatsFrame, rates

FRAME = {
    'read': '2026-11-24T19:40:55.500000000Z',
    'cpu_stats': {'cpu_usage': {'total_usage': 3_000_000_000}, 'system_cpu_usage': 110_000_000_000, 'online_cpus': 2},
    'precpu_stats': {'cpu_usage': {'total_usage': 2_000_000_000}, 'system_cpu_usage': 108_000_000_000},
    'memory_stats': {'usage': 50 * 2**20, 'limit': 200 * 2**20, 'stats': {'inactive_file': 10 * 2**20}},
    'networks': {'eth0': {'rx_bytes': 1000, 'tx_bytes': 200}, 'eth1': {'rx_bytes': 24, 'tx_bytes': 0}},
    'blkio_stats': {
        'io_service_bytes_recursive': [
            {'major': 8, 'minor': 0, 'op': 'read', 'value': 4096},
            {'major': 8, 'minor': 0, 'op': 'write', 'value': 8192},
            {'major': 8, 'minor': 0, 'op': 'Total', 'value': 12288},
        ]
    },
    'pids_stats': {'current': 7},
}


def test_a_frame_gives_cpu_memory_io_and_pids_like_docker_stats() -> None:
    frame = StatsFrame.from_api(FRAME)
    assert frame.cpu_percent == pytest.approx(100.0)  # 1 s of CPU over 2 s of host time on 2 CPUs: one CPU busy
    assert frame.memory_used == 40 * 2**20  # the inactive page cache is not counted
    assert frame.memory_percent == pytest.approx(20.0)
    assert (frame.net_rx, frame.net_tx, frame.block_read, frame.block_write, frame.pids) == (1024, 200, 4096, 8192, 7)
    assert frame.read_at == pytest.approx(1795549255.5)


def test_cgroup_v1_names_and_a_stopped_container_count_as_zero_not_an_error() -> None:
    v1 = {**FRAME, 'memory_stats': {'usage': 100, 'limit': 1000, 'stats': {'total_inactive_file': 30}}}
    v1['blkio_stats'] = {'io_service_bytes_recursive': [{'op': 'Read', 'value': 5}, {'op': 'Write', 'value': 6}]}
    frame = StatsFrame.from_api(v1)
    assert (frame.memory_used, frame.block_read, frame.block_write) == (70, 5, 6)
    stopped = StatsFrame.from_api({'read': '0001-01-01T00:00:00Z', 'blkio_stats': {}, 'networks': None})
    assert (stopped.cpu_percent, stopped.memory_used, stopped.memory_percent, stopped.read_at) == (0.0, 0, 0.0, 0.0)


def test_rates_are_per_second_between_two_frames_and_never_negative() -> None:
    first = StatsFrame.from_api(FRAME)
    later = {**FRAME, 'read': '2026-11-24T19:40:57.500000000Z', 'networks': {'eth0': {'rx_bytes': 3024, 'tx_bytes': 0}}}
    second = StatsFrame.from_api(later)
    speed = rates(first, second)
    assert (speed.net_rx, speed.net_tx) == (1000.0, 0.0)  # 2000 bytes in 2 s; tx went back (a restart): 0
    assert rates(second, first).net_rx == 0.0  # time went back: nothing
