"""A Dramatiq worker process, started as the README tells operators to: ``dramatiq tasks`` from the project root."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import PROJECT_ROOT


def dramatiq_command() -> list[str]:
    """The ``dramatiq`` entry point next to this interpreter (the virtualenv's), else its module with it."""
    entry_point = Path(sys.executable).parent / 'dramatiq'
    return [str(entry_point)] if entry_point.is_file() else [sys.executable, '-m', 'dramatiq']


@contextmanager
def dramatiq_worker(*, threads: int = 2, **environment: str) -> Iterator[subprocess.Popen[bytes]]:
    """`dramatiq tasks` with one process and ``threads`` threads, in its own process group; killed at the end."""
    process = subprocess.Popen(
        [*dramatiq_command(), 'tasks', '--processes', '1', '--threads', str(threads)],
        cwd=PROJECT_ROOT,
        env={**os.environ, 'PYTHONUNBUFFERED': '1', **environment},
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


class WorkerProcess:
    """`dramatiq tasks` to kill and start again: each start is a new process (a new Dramatiq worker id), its output
    appended to ``log_path``."""

    def __init__(self, log_path: Path, *, threads: int = 2, **environment: str) -> None:
        self.log_path = log_path
        self.threads = threads
        self.environment = environment
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open('ab') as log:
            self.process = subprocess.Popen(
                [*dramatiq_command(), 'tasks', '--processes', '1', '--threads', str(self.threads)],
                cwd=PROJECT_ROOT,
                env={**os.environ, 'PYTHONUNBUFFERED': '1', **self.environment},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def signal(self, number: int) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, number)

    def kill(self) -> None:
        """SIGKILL to its process group (dramatiq's parent and its worker process)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors='replace')
        except OSError:
            return '(no log)'
