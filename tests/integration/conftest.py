"""Integration fixtures: the real services object (watcher, bus, broker, worker) against the real engine."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.permissions import Identity
from core.settings import Settings
from system import Services, build

from ..conftest import PROJECT_ROOT
from .registry import absent, pushed_image, registry  # noqa: F401 — fixtures for the image tests

OPERATOR = Identity(username='olga', role='operator', address='127.0.0.1')
VIEWER = Identity(username='victor', role='viewer', address='127.0.0.1')


async def eventually(predicate: Callable[[], bool], timeout: float = 15.0, what: str = 'condition') -> None:
    """Waits (yielding to the loop) until ``predicate`` holds; fails with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out after {timeout} s waiting for: {what}')
        await asyncio.sleep(0.02)


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    """Embedded default: in-memory broker and worker threads in this process."""
    running = build(Settings(data_dir=tmp_path / 'data', redis_url=None, docker_host=None))
    await running.start()
    await eventually(lambda: running.state.engine_ok and running.state.synced_at > 0, what='first resync')
    yield running
    await running.stop()


@contextmanager
def dramatiq_worker(**environment: str) -> Iterator[subprocess.Popen[bytes]]:
    """`dramatiq tasks` from the project root, exactly as the README tells operators to run it; killed at the end."""
    process = subprocess.Popen(
        [sys.executable, '-m', 'dramatiq', 'tasks', '--processes', '1', '--threads', '2'],
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
