"""Panel memory and responsiveness while terminals flood: N browser tabs, each with a terminal printing random data.

    python bench/terminal_flood.py [--terminals 8] [--seconds 30] [--stuck] [--app DIR]

Each tab is its own signed-in session (as admin) on /containers/NAME/terminal, running `cat /dev/urandom` (random
bytes: the costliest output to carry, as most of it becomes escaped replacement and control characters). Sampled
during the flood: the panel's RSS every 0.5 s and the /healthz round trip every 0.2 s (the panel's event loop); after
the tabs are closed, the RSS once the panel had --settle seconds to give memory back. ``--stuck`` makes every tab a
client that never acknowledges: its xterm write never completes. ``--app DIR`` runs the panel from another checkout.
Results go to bench/results/terminal_flood[_stuck].json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.async_api import async_playwright

from bench.common import TERMINAL, machine_facts, save_results, start_sleeper
from tests.support import PROJECT_ROOT
from tests.support.browser import launch_chromium, signed_in_page
from tests.support.panel import Panel

NEVER_ACKNOWLEDGE = '() => { window.berthTerminal.write = () => new Promise(() => {}); }'


def rss_mb(pid: int) -> float:
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


class Sampler(threading.Thread):
    """RSS of the panel and /healthz round trips, until stopped."""

    def __init__(self, panel: Panel, pid: int) -> None:
        super().__init__(daemon=True)
        self.panel, self.pid = panel, pid
        self.rss: list[float] = []
        self.healthz_ms: list[float] = []
        self.slow: list[tuple[float, float]] = []  # (seconds since the flood started, ms) of answers slower than 0.5 s
        self.started = time.monotonic()
        self.stopped = threading.Event()

    def run(self) -> None:
        next_rss = 0.0
        while not self.stopped.is_set():
            if time.monotonic() >= next_rss:
                self.rss.append(rss_mb(self.pid))
                next_rss = time.monotonic() + 0.5
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(f'{self.panel.base_url}/healthz', timeout=30) as response:
                    response.read()
                self.healthz_ms.append((time.perf_counter() - started) * 1000)
            except OSError:
                self.healthz_ms.append(30_000.0)
            if self.healthz_ms[-1] > 500:
                self.slow.append((round(time.monotonic() - self.started, 1), round(self.healthz_ms[-1])))
            self.stopped.wait(0.2)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))], 1) if ordered else 0.0


async def run(arguments: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()
    container = f'berth-bench-flood-{uuid.uuid4().hex[:8]}'
    start_sleeper(container)
    root = Path(arguments.app).resolve() if arguments.app else PROJECT_ROOT
    try:
        with Panel(root=root, env={'BERTH_TERMINALS_PER_USER': str(max(8, arguments.terminals))}) as panel:
            panel.wait_healthy(30, min_containers=1)
            assert panel.process is not None
            pid = panel.process.pid
            async with async_playwright() as playwright:
                browser = await launch_chromium(playwright)
                try:
                    pages = []
                    for _ in range(arguments.terminals):
                        page = await signed_in_page(browser, panel.base_url)
                        await page.goto(f'/containers/{container}/terminal')
                        await page.locator('.xterm-rows').get_by_text('/ #').first.wait_for(timeout=30_000)
                        if arguments.stuck:
                            await page.evaluate(NEVER_ACKNOWLEDGE)
                        pages.append(page)
                    await asyncio.sleep(2)
                    before = rss_mb(pid)
                    sampler = Sampler(panel, pid)
                    sampler.start()
                    for page in pages:
                        await page.evaluate(f'{TERMINAL}.input({json.dumps(arguments.command + chr(13))}, true)')
                    await asyncio.sleep(arguments.seconds)
                    during = list(sampler.rss)
                    closed_at = round(time.monotonic() - sampler.started, 1)
                    for page in pages:
                        await page.context.close()
                    await asyncio.sleep(arguments.settle)
                    sampler.stopped.set()
                    sampler.join()
                    after = rss_mb(pid)
                except Exception:
                    print(f'panel log (tail):\n{panel.log()[-5000:]}', file=sys.stderr)
                    raise
                finally:
                    await browser.close()
    finally:
        subprocess.run(['docker', 'rm', '-f', container], check=False, capture_output=True)
    health = sampler.healthz_ms
    return {
        'measured_at': datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds'),
        'machine': machine_facts(load_before),
        'app': str(root) if arguments.app else '.',
        'terminals': arguments.terminals,
        'seconds': arguments.seconds,
        'stuck': arguments.stuck,
        'command': arguments.command,
        'rss_mb': {
            'before_flood': before,
            'peak_during_flood': max(during),
            'end_of_flood': during[-1],
            'after_close': after,
            'peak_extra': round(max(during) - before, 1),
            'extra_per_terminal': round((max(during) - before) / arguments.terminals, 1),
        },
        'healthz_ms': {
            'n': len(health),
            'p50': round(statistics.median(health), 1) if health else 0.0,
            'p99': percentile(health, 0.99),
            'max': round(max(health), 1) if health else 0.0,
            'slow_answers_at_seconds': sampler.slow,
            'tabs_closed_at_seconds': closed_at,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--terminals', type=int, default=8)
    parser.add_argument('--seconds', type=float, default=30)
    parser.add_argument('--settle', type=float, default=10)
    parser.add_argument('--stuck', action='store_true', help='clients that never acknowledge a write')
    parser.add_argument('--command', default='cat /dev/urandom', help='what each terminal runs (default: random bytes)')
    parser.add_argument('--app', help='run the panel from this checkout instead')
    arguments = parser.parse_args()
    result = asyncio.run(run(arguments))
    memory, health = result['rss_mb'], result['healthz_ms']
    print(
        f'\n{arguments.terminals} flooding terminals{" (clients never acknowledge)" if arguments.stuck else ""}, '
        f'{arguments.seconds:.0f} s, load average {result["machine"]["load_average_1min_before_and_after"]}'
    )
    print(
        f'  panel RSS: {memory["before_flood"]} MB before, peak {memory["peak_during_flood"]} MB '
        f'(+{memory["peak_extra"]} MB, {memory["extra_per_terminal"]} MB per terminal), '
        f'{memory["after_close"]} MB {arguments.settle:.0f} s after closing'
    )
    print(f'  /healthz: p50 {health["p50"]} ms, p99 {health["p99"]} ms, max {health["max"]} ms ({health["n"]} samples)')
    print(
        f'  answers slower than 0.5 s (s after the flood started, ms): {health["slow_answers_at_seconds"]}; '
        f'tabs closed at {health["tabs_closed_at_seconds"]} s'
    )
    save_results(
        PROJECT_ROOT / 'bench' / 'results' / f'terminal_flood{"_stuck" if arguments.stuck else ""}.json', result
    )


if __name__ == '__main__':
    main()
