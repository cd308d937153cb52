"""Peak memory, CPU time and peak process count of a run, sampled from the engine while it runs.

The engine forgets a container's figures the moment it stops, so the worker asks while the run lasts: one-shot reads
(``stats?stream=false&one-shot=true``: the cgroup's figures at once, a couple of milliseconds each) soon after the
start, then less and less often. The memory peak is the cgroup's own high-water mark where the engine reports it
(cgroup v1's ``max_usage``), else the highest usage read; CPU time is the last total read. A run shorter than the
first read has none of these (the status line says '—').
"""

from __future__ import annotations

import threading
from contextlib import closing
from typing import Any

import docker

from core.docker.endpoints import Endpoint

SCHEDULE = (0.05, 0.05, 0.1, 0.2, 0.4)  # seconds between the first reads; then every LATER seconds
LATER = 0.5


class StatsSampler:
    def __init__(self, endpoint: Endpoint, container_id: str, api_version: str) -> None:
        self.endpoint = endpoint
        self.container_id = container_id
        self.api_version = api_version
        self.peak_memory: int | None = None
        self.cpu_seconds: float | None = None
        self.peak_processes: int | None = None
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f'berth-sandbox-stats-{container_id[:8]}', daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """No more reads (the run has ended); waits for a read under way."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        try:
            with closing(self.endpoint.connect(timeout=10, version=self.api_version)) as client:
                step = 0
                while not self._stopped.wait(SCHEDULE[step] if step < len(SCHEDULE) else LATER):
                    step += 1
                    self.take(client.api.stats(self.container_id, stream=False, one_shot=True))
        except (docker.errors.DockerException, OSError, ValueError):
            return  # the run ended (and its container with it), or the engine is away: no more figures

    def take(self, frame: dict[str, Any]) -> None:
        """Folds one statistics read into the peaks (a read of a stopped container is all zeros: ignored)."""
        memory = frame.get('memory_stats') or {}
        peak = max(int(memory.get('max_usage') or 0), int(memory.get('usage') or 0))
        if peak:
            self.peak_memory = max(self.peak_memory or 0, peak)
        cpu = int(((frame.get('cpu_stats') or {}).get('cpu_usage') or {}).get('total_usage') or 0)
        if cpu:
            self.cpu_seconds = max(self.cpu_seconds or 0.0, cpu / 1e9)
        processes = int((frame.get('pids_stats') or {}).get('current') or 0)
        if processes:
            self.peak_processes = max(self.peak_processes or 0, processes)
