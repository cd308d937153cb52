"""Shared by the benches and the end-to-end tests: run Berth as a subprocess, drive it from headless Chromium."""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from playwright.async_api import Browser, Locator, Page, Playwright

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUSYBOX = 'berth-test/busybox:latest'
CHROMIUM = '/usr/bin/chromium'
CHROMIUM_ARGS = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
]
ADMIN_PASSWORD = 'berth-e2e-password'
TERMINAL = "getElement(document.querySelector('[data-berth-terminal]')).terminal"  # the page's xterm, in JavaScript
ECHO_TIMEOUT_MS = 5000
# one character into the terminal; resolves with the ms until xterm has parsed its echo, or -1 after ECHO_TIMEOUT_MS
ECHO = """(ch) => new Promise((resolve) => {
  const term = TERMINAL;
  const t0 = performance.now();
  const echoed = () => {
    const buffer = term.buffer.active;
    const line = buffer.getLine(buffer.baseY + buffer.cursorY);
    return buffer.cursorX > 0 && line && line.translateToString(false)[buffer.cursorX - 1] === ch;
  };
  const timer = setTimeout(() => { subscription.dispose(); resolve(-1); }, ECHO_TIMEOUT_MS);
  const subscription = term.onWriteParsed(() => {
    if (echoed()) { clearTimeout(timer); subscription.dispose(); resolve(performance.now() - t0); }
  });
  term.input(ch, true);
})""".replace('TERMINAL', TERMINAL).replace('ECHO_TIMEOUT_MS', str(ECHO_TIMEOUT_MS))
SCRUBBED_ENV = {
    'REDIS_URL',
    'BERTH_REDIS_URL',
    'NICEGUI_USER_SIMULATION',
    'NICEGUI_SCREEN_TEST_PORT',
    'PYTEST_CURRENT_TEST',
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return int(probe.getsockname()[1])


class Panel:
    """``python main.py --port PORT`` with a fresh data dir and embedded broker; its output goes to a log file."""

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
        # PYTEST_CURRENT_TEST would make NiceGUI's ui.run() believe it runs inside pytest and ignore --port
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
        try:
            with urllib.request.urlopen(f'{self.base_url}/healthz', timeout=2) as response:
                return dict(json.load(response))
        except (OSError, ValueError, urllib.error.URLError):
            return None

    def wait_healthy(self, timeout: float, min_containers: int = 0) -> dict[str, Any]:
        """Waits until /healthz says the watcher has synced (and sees at least ``min_containers``)."""
        deadline = time.monotonic() + timeout
        last: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f'Berth exited with code {self.process.returncode}:\n{self.log()}')
            last = self.health()
            if last and last['docker']['ok'] and last['containers'] >= min_containers:
                return last
            time.sleep(0.2)
        raise TimeoutError(f'Berth not healthy after {timeout:.0f} s (last /healthz: {last}):\n{self.log()}')

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


async def launch_chromium(playwright: Playwright) -> Browser:
    """A headless Chromium from the system package (never a Playwright download)."""
    return await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


async def signed_in_page(
    browser: Browser,
    base_url: str,
    *,
    username: str = 'admin',
    password: str = ADMIN_PASSWORD,
    path: str = '/containers',
) -> Page:
    """A fresh browser context (its own cookies = its own session), signed in and showing ``path``."""
    context = await browser.new_context(base_url=base_url, viewport={'width': 1600, 'height': 1000})
    page = await context.new_page()
    await page.goto(f'/login?redirect_to={path}')
    await page.get_by_label('Username').fill(username)
    await page.get_by_label('Password', exact=True).fill(password)
    await page.get_by_role('button', name='Sign in').click()
    await page.wait_for_url(f'**{path}', timeout=15_000)
    await page.locator('.q-table').first.wait_for(timeout=15_000)
    return page


async def open_terminal(browser: Browser, base_url: str, container: str) -> Page:
    """A new signed-in session (as admin) with ``container``'s terminal open at the shell prompt."""
    page = await signed_in_page(browser, base_url)
    await page.goto(f'/containers/{container}/terminal')
    await page.locator('.xterm-rows').get_by_text('/ #').first.wait_for(timeout=20_000)
    return page


async def echo_latencies(
    page: Page,
    keystrokes: int,
    *,
    stop_when: Callable[[], bool] | None = None,
    missing_ok: bool = False,
    latencies: list[float] | None = None,
) -> list[float]:
    """Keystroke-to-echo times (ms) in the page's terminal, one character at a time into `cat` (TTY echo).

    Stops after ``keystrokes``, or earlier once ``stop_when()`` is true. A keystroke not echoed within
    ECHO_TIMEOUT_MS raises, or with ``missing_ok`` counts as ECHO_TIMEOUT_MS. The times are appended to
    ``latencies`` if given (so they are kept when the page fails half-way), and returned."""
    await page.evaluate(f'{TERMINAL}.input("cat > /dev/null\\r", true)')
    await page.wait_for_timeout(300)
    latencies = [] if latencies is None else latencies
    for index in range(keystrokes):
        if stop_when is not None and stop_when():
            break
        if index and index % 50 == 0:
            await page.evaluate(f'{TERMINAL}.input("\\r", true)')
            await page.wait_for_timeout(20)
        latency = await page.evaluate(ECHO, 'abcdefghijklmnopqrstuvwxyz'[index % 26])
        if latency < 0 and not missing_ok:
            raise RuntimeError(f'keystroke {index} was not echoed within {ECHO_TIMEOUT_MS / 1000:.0f} s')
        latencies.append(latency if latency >= 0 else float(ECHO_TIMEOUT_MS))
        await page.wait_for_timeout(5)
    await page.evaluate(f'{TERMINAL}.input("\\u0003", true)')
    return latencies


def latency_summary(latencies: list[float]) -> dict[str, float]:
    """n, p50, p99 (the sample at the 99th percentile's rank) and max of a list of ms."""
    if not latencies:
        return {'n': 0}
    ordered = sorted(latencies)
    return {
        'n': len(ordered),
        'p50_ms': round(statistics.median(ordered), 2),
        'p99_ms': round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
        'max_ms': round(ordered[-1], 2),
    }


def container_row(page: Page, name: str) -> Locator:
    """The table row whose name link is exactly ``name``."""
    return page.locator('tbody tr').filter(has=page.get_by_role('link', name=name, exact=True))


def start_sleeper(name: str) -> None:
    """A busybox container that idles for an hour (killed at once on stop), for a bench to work in."""
    subprocess.run(
        [
            'docker',
            'run',
            '-d',
            '--name',
            name,
            '--label',
            'berth-bench=1',
            '--stop-signal',
            'KILL',
            BUSYBOX,
            'sleep',
            '3600',
        ],
        check=True,
        capture_output=True,
    )


def machine_facts(load_before: tuple[float, float, float]) -> dict[str, Any]:
    """What a saved result says of the machine: cores, platform, Python, load average before and after the run."""
    return {
        'cpus': os.cpu_count(),
        'platform': platform.platform(),
        'python': platform.python_version(),
        'load_average_1min_before_and_after': [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
    }


def save_results(path: Path, result: dict[str, Any]) -> None:
    """Writes a bench's figures as JSON next to the others and says where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + '\n')
    shown = path.resolve().relative_to(PROJECT_ROOT) if path.resolve().is_relative_to(PROJECT_ROOT) else path
    print(f'\nsaved to {shown}')
