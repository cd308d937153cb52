"""A redis-server of a test's own on a free port, persisting as the compose file runs it (``--appendonly yes``), to kill
and start again at will: the host's Redis is never touched."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import redis

from . import free_port
from .eventually import eventually_sync


class OwnRedis:
    """``redis-server`` on 127.0.0.1:``port`` with its append-only file and log under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.url = f'redis://127.0.0.1:{self.port}/0'
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 15) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / 'redis.log').open('ab') as log:
            process = self.process = subprocess.Popen(
                [
                    *('redis-server', '--port', str(self.port), '--bind', '127.0.0.1', '--dir', str(self.root)),
                    *('--appendonly', 'yes', '--save', '', '--protected-mode', 'no'),
                ],
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)

        def answers() -> bool:
            if process.poll() is not None:
                raise AssertionError(f'redis-server exited:\n{self.log()}')
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        try:
            eventually_sync(answers, timeout, lambda: f'redis-server to answer:\n{self.log()}', interval=0.05)
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: what was not yet in the append-only file is lost, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
        self.kill()

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=5)

    def log(self) -> str:
        try:
            return (self.root / 'redis.log').read_text(errors='replace')
        except OSError:
            return '(no log)'


@contextlib.contextmanager
def started_redis(root: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(root)
    server.start()
    try:
        yield server
    finally:
        server.stop()
