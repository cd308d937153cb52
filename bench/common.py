"""What the benches share with each other only: a container to work in, the machine facts and saving the figures.

Running the panel and Chromium is the test harness's (``tests/support``), shared with the end-to-end tests."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page

from tests.support import BUSYBOX, PROJECT_ROOT
from tests.support.browser import signed_in_page

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
