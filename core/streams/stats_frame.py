"""One frame of ``GET /containers/{id}/stats``, reduced to the figures Berth shows, computed the way ``docker stats``
does (docker/cli ``cli/command/container/stats_helpers.go``): CPU % from the frame's own ``cpu_stats`` and
``precpu_stats``, memory without the inactive page cache, network and block I/O summed over interfaces and devices.

A frame from a stream, or from a one-shot read without ``one-shot=true`` (the daemon then waits for its next sample,
about a second, so ``precpu_stats`` is filled in), carries everything for CPU %; per-second network and block rates
need two frames: :func:`rates`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

_RFC3339 = re.compile(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$')


@dataclass(kw_only=True, slots=True, frozen=True)
class StatsFrame:
    read_at: float  # the daemon's time of the sample, seconds since the epoch (0 when unknown)
    cpu_percent: float  # of one CPU: 250.0 is two and a half CPUs busy
    online_cpus: int
    memory_used: int  # bytes, without the inactive page cache
    memory_limit: int  # bytes: the container's limit, or the host's memory when it has none
    net_rx: int  # bytes received since the container started, all interfaces
    net_tx: int
    block_read: int  # bytes read from block devices since the container started
    block_write: int
    pids: int

    @property
    def memory_percent(self) -> float:
        return 100.0 * self.memory_used / self.memory_limit if self.memory_limit else 0.0

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> StatsFrame:
        """From one decoded stats frame; missing parts (a stopped container, cgroup v1 or v2) count as zero."""
        cpu = data.get('cpu_stats') or {}
        precpu = data.get('precpu_stats') or {}
        memory = data.get('memory_stats') or {}
        return cls(
            read_at=_timestamp(str(data.get('read') or '')),
            cpu_percent=cpu_percent(cpu, precpu),
            online_cpus=_online_cpus(cpu),
            memory_used=memory_without_cache(memory),
            memory_limit=int(memory.get('limit') or 0),
            net_rx=sum(int(n.get('rx_bytes') or 0) for n in (data.get('networks') or {}).values()),
            net_tx=sum(int(n.get('tx_bytes') or 0) for n in (data.get('networks') or {}).values()),
            block_read=_block_bytes(data, 'read'),
            block_write=_block_bytes(data, 'write'),
            pids=int((data.get('pids_stats') or {}).get('current') or 0),
        )


@dataclass(kw_only=True, slots=True, frozen=True)
class Rates:
    net_rx: float  # bytes per second
    net_tx: float
    block_read: float
    block_write: float


def rates(previous: StatsFrame, current: StatsFrame) -> Rates:
    """Per-second network and block I/O between two frames of the same container (zero when time did not move or a
    counter went back, as after a restart)."""
    seconds = current.read_at - previous.read_at
    if seconds <= 0:
        return Rates(net_rx=0.0, net_tx=0.0, block_read=0.0, block_write=0.0)

    def per_second(now: int, before: int) -> float:
        return max(0, now - before) / seconds

    return Rates(
        net_rx=per_second(current.net_rx, previous.net_rx),
        net_tx=per_second(current.net_tx, previous.net_tx),
        block_read=per_second(current.block_read, previous.block_read),
        block_write=per_second(current.block_write, previous.block_write),
    )


def cpu_percent(cpu: dict[str, Any], precpu: dict[str, Any]) -> float:
    """``docker stats``: container CPU time over host CPU time between the two samples, times the online CPUs."""
    cpu_delta = _total_usage(cpu) - _total_usage(precpu)
    system_delta = int(cpu.get('system_cpu_usage') or 0) - int(precpu.get('system_cpu_usage') or 0)
    if cpu_delta <= 0 or system_delta <= 0:
        return 0.0
    return cpu_delta / system_delta * _online_cpus(cpu) * 100.0


def memory_without_cache(memory: dict[str, Any]) -> int:
    """``docker stats``: usage minus the inactive page cache (``total_inactive_file`` on cgroup v1, ``inactive_file``
    on cgroup v2), which the kernel gives back under pressure."""
    usage = int(memory.get('usage') or 0)
    details = memory.get('stats') or {}
    for key in ('total_inactive_file', 'inactive_file'):
        if key in details:
            inactive = int(details[key] or 0)
            return usage - inactive if inactive < usage else usage
    return usage


def _total_usage(cpu: dict[str, Any]) -> int:
    return int((cpu.get('cpu_usage') or {}).get('total_usage') or 0)


def _online_cpus(cpu: dict[str, Any]) -> int:
    online = int(cpu.get('online_cpus') or 0)
    return online or len((cpu.get('cpu_usage') or {}).get('percpu_usage') or []) or 1


def _block_bytes(data: dict[str, Any], operation: str) -> int:
    entries = (data.get('blkio_stats') or {}).get('io_service_bytes_recursive') or []
    return sum(int(entry.get('value') or 0) for entry in entries if str(entry.get('op', '')).lower() == operation)


def _timestamp(text: str) -> float:
    """The daemon's RFC 3339 time with nanoseconds (``2026-11-24T19:40:54.123456789Z``); 0 for the zero time."""
    match = _RFC3339.match(text)
    if match is None or text.startswith('0001-'):
        return 0.0
    whole, fraction, offset = match.groups()
    try:
        seconds = datetime.fromisoformat(whole + ('+00:00' if offset in (None, 'Z') else offset)).timestamp()
    except ValueError:
        return 0.0
    return seconds + (float(fraction) if fraction else 0.0)
