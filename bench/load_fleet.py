"""The load bench's containers: N busybox containers made in bulk through the SDK (created, not started, but for the
few that change), the changes made with the `docker` CLI at a steady rate, and the accounts people sign in with."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import docker

from auth.accounts import Accounts
from core.storage.sqlite import SQLiteDatabase
from tests.support import BUSYBOX

# zz: behind everyone else's containers in the default name sort, so other people's first table page is unchanged;
# BERTH_BENCH_LOAD_PREFIX gives another one, so that two runs on one engine never touch each other's containers
PREFIX = os.environ.get('BERTH_BENCH_LOAD_PREFIX') or 'zzbld-'
KIND = 'load' if PREFIX == 'zzbld-' else f'load-{PREFIX.rstrip("-")}'
LABELS = {'berth-bench': '1', 'berth-bench-kind': KIND}  # the kind: never touch other benches' (or runs') containers
LABEL_FILTER = [f'{key}={value}' for key, value in LABELS.items()]
PASSWORD = 'bench-load-password'


def make_accounts(data_dir: Path, prefix: str, count: int, role: str) -> list[tuple[str, str]]:
    """``count`` local accounts with ``role``, written into the panel's database (as bench/environments.py does)."""
    accounts = Accounts(SQLiteDatabase(data_dir / 'berth.sqlite3'))
    names = [f'{prefix}{index:02d}' for index in range(count)]
    for name in names:
        accounts.create(name, PASSWORD, role)
    return [(name, PASSWORD) for name in names]


def run_sleeper(name: str, command: str = 'sleep 3600') -> None:
    """A running busybox container of this bench (killed at once on stop)."""
    subprocess.run(
        ['docker', 'run', '-d', '--name', name, *label_args(), '--stop-signal', 'KILL', BUSYBOX, 'sh', '-c', command],
        check=True,
        capture_output=True,
    )


def label_args() -> list[str]:
    return [argument for label in LABEL_FILTER for argument in ('--label', label)]


def remove_all(client: docker.DockerClient) -> None:
    """Every container of this bench (leftovers of an interrupted run too)."""
    ids = [container['Id'] for container in client.api.containers(all=True, filters={'label': LABEL_FILTER})]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda container_id: client.api.remove_container(container_id, force=True), ids))


@dataclass
class Fleet:
    """``count`` containers ``zzbld-0000``…; the first ``changing`` run and are paused and unpaused in turn."""

    client: docker.DockerClient
    count: int
    changing: int
    names: list[str] = field(default_factory=list)
    paused: set[str] = field(default_factory=set)

    def make(self) -> None:
        self.names = [f'{PREFIX}{index:04d}' for index in range(self.count)]
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(self._create, self.names))
            list(pool.map(self.client.api.start, self.names[: self.changing]))

    def _create(self, name: str) -> None:
        self.client.api.create_container(
            BUSYBOX, command=['sleep', '3600'], name=name, labels=LABELS, stop_signal='SIGKILL'
        )

    @property
    def filter_text(self) -> str:
        """What people type into "Filter containers" so that the changing ones are on their first page."""
        return PREFIX

    def drive(self, rate: float, seconds: float) -> list[dict[str, float | str]]:
        """``docker pause`` / ``docker unpause`` of the changing containers in turn, ``rate`` a second for ``seconds``
        (each command in a thread of its own, started on time whatever the previous one does); per change: the
        container, the action, when it was started and how long the CLI took."""
        changes: list[dict[str, float | str]] = []
        lock = threading.Lock()

        def change(name: str, action: str) -> None:
            started = time.time()
            subprocess.run(['docker', action, name], check=True, capture_output=True)
            with lock:
                changes.append(
                    {'name': name, 'action': action, 'at': started, 'cli_ms': (time.time() - started) * 1000}
                )

        total = int(rate * seconds)
        begin = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            for index in range(total):
                name = self.names[index % self.changing]
                action = 'unpause' if name in self.paused else 'pause'
                (self.paused.discard if action == 'unpause' else self.paused.add)(name)
                time.sleep(max(0.0, begin + index / rate - time.monotonic()))
                pool.submit(change, name, action)
        return changes

    def unpause_all(self) -> None:
        for name in list(self.paused):
            subprocess.run(['docker', 'unpause', name], check=False, capture_output=True)
        self.paused.clear()
