"""Berth as a subprocess: ``python main.py --port PORT`` with a fresh data dir and the embedded broker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from . import PROJECT_ROOT, free_port
from .eventually import eventually_sync

ADMIN_PASSWORD = 'berth-e2e-password'
# PYTEST_CURRENT_TEST would make NiceGUI's ui.run() believe it runs inside pytest and ignore --port
SCRUBBED_ENV = {
    'REDIS_URL',
    'BERTH_REDIS_URL',
    'NICEGUI_USER_SIMULATION',
    'NICEGUI_SCREEN_TEST_PORT',
    'PYTEST_CURRENT_TEST',
}


class Panel:
    """``python main.py --port PORT`` (the interpreter running this, so a virtualenv's) with a fresh data dir and
    embedded broker; its output goes to a log file."""

    def __init__(
        self, *, password: str = ADMIN_PASSWORD, env: dict[str, str] | None = None, root: Path = PROJECT_ROOT
    ) -> None:
        self.password = password
        self.root = root  # another checkout of Berth, to compare a change
        self.port = free_port()
        self.base_url = f'http://127.0.0.1:{self.port}'
        self._tmp = tempfile.TemporaryDirectory(prefix='berth-panel-')
        self.data_dir = Path(self._tmp.name) / 'data'
        self.log_path = Path(self._tmp.name) / 'panel.log'
        self.extra_env = env or {}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0, min_containers: int = 0) -> Self:
        env = {key: value for key, value in os.environ.items() if key not in SCRUBBED_ENV}
        env.update(
            {
                'BERTH_DATA_DIR': str(self.data_dir),
                'BERTH_ADMIN_PASSWORD': self.password,
                'PYTHONUNBUFFERED': '1',
                **self.extra_env,
            }
        )
        with self.log_path.open('wb') as log:
            self.process = subprocess.Popen(
                [sys.executable, 'main.py', '--port', str(self.port)],
                cwd=self.root,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self.wait_healthy(timeout, min_containers)
        except BaseException:
            self.stop()
            raise
        return self

    def health(self) -> dict[str, Any] | None:
        """The panel's /healthz answer (also a 503's, which names what is down), or None while it does not answer."""
        try:
            with urllib.request.urlopen(f'{self.base_url}/healthz', timeout=2) as response:
                return dict(json.load(response))
        except urllib.error.HTTPError as error:
            try:
                return dict(json.load(error))
            except ValueError:
                return None
        except (OSError, ValueError):
            return None

    def wait_healthy(self, timeout: float, min_containers: int = 0) -> dict[str, Any]:
        """Waits until /healthz says the watcher has synced (and sees at least ``min_containers``)."""
        last: dict[str, Any] | None = None

        def healthy() -> bool:
            nonlocal last
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f'Berth exited with code {self.process.returncode}:\n{self.log()}')
            last = self.health()
            return bool(last and last['docker']['ok'] and last['containers'] >= min_containers)

        eventually_sync(healthy, timeout, lambda: f'Berth healthy (last /healthz: {last}):\n{self.log()}', interval=0.2)
        assert last is not None
        return last

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors='replace')
        except OSError:
            return '(no log)'

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL to the whole process group if it has not stopped within ``grace`` seconds."""
        process = self.process
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        self._tmp.cleanup()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def kill_panel(panel: Panel) -> None:
    """SIGKILL to the panel's process group, as a crash: nothing of its shutdown runs; its data dir stays, so
    ``panel.start()`` starts it again on the same data."""
    process = panel.process
    if process is not None and process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
