"""Live logs: lines per second into a headless browser next to `docker logs -f`, responsiveness under a flood, and
panel memory per viewer.

    python bench/logs.py [--lines 300000] [--runs 2] [--viewers 5] [--settle 15]

throughput: a busybox container waits for a trigger file, then prints N numbered lines (`seq`) as fast as the daemon
takes them. `docker logs -f` and a browser on /containers/NAME/logs follow it from before the trigger; each rate is
N (or what arrived) / (its last line - trigger). The page counts lines as the log view inserts them.
flood: a container printing about 50 000 lines/s (`seq 1 5000` every 0.1 s) followed by one browser: /healthz round
trip (the panel's event loop), click on "Stop following" until the button says "Resume following", longest gap
between 10 ms timer ticks in the page (its main thread), lines/s that reached the page.
memory: RSS of the panel with 1 and with --viewers viewers following the flood, each after --settle seconds.
Results go to bench/results/logs.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
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

from playwright.async_api import Browser, Page, async_playwright

from bench.common import save_results
from tests.support import BUSYBOX, PROJECT_ROOT
from tests.support.browser import launch_chromium, signed_in_page
from tests.support.panel import Panel

RESULTS = PROJECT_ROOT / 'bench' / 'results' / 'logs.json'
TRIGGERED = 'while [ ! -f /tmp/go ]; do usleep 20000; done; seq 1 {lines}; sleep 3600'
FLOOD = 'while true; do seq 1 5000; usleep 100000; done'
COUNT_LINES = """() => {
  const box = document.querySelector('.berth-log');
  const state = window.berthBench = {first: 0, last: 0, count: 0, maxGap: 0, tick: performance.now()};
  setInterval(() => {
    const now = performance.now();
    state.maxGap = Math.max(state.maxGap, now - state.tick);
    state.tick = now;
    const count = box.berthReceived || 0;
    if (count !== state.count) {
      state.last = Date.now();
      if (!state.first) state.first = state.last;
      state.count = count;
    }
  }, 10);
}"""


class CliFollower(threading.Thread):
    """`docker logs -f NAME`, counting lines as they arrive."""

    def __init__(self, name: str) -> None:
        super().__init__(daemon=True)
        self.process = subprocess.Popen(
            ['docker', 'logs', '-f', name], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.count = 0
        self.last = 0.0

    def run(self) -> None:
        assert self.process.stdout is not None
        while data := self.process.stdout.read1(1 << 16):  # type: ignore[attr-defined]
            self.count += data.count(b'\n')
            self.last = time.time()

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def start_container(script: str) -> str:
    name = f'berth-bench-logs-{uuid.uuid4().hex[:8]}'
    subprocess.run(
        ['docker', 'run', '-d', '--name', name, '--label', 'berth-bench=1', BUSYBOX, 'sh', '-c', script],
        check=True,
        capture_output=True,
    )
    return name


def rss_mb(pid: int) -> float:
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def open_logs(browser: Browser, panel: Panel, name: str) -> Page:
    page = await signed_in_page(browser, panel.base_url, password=panel.password)
    await page.goto(f'/containers/{name}/logs')
    await page.get_by_role('status').filter(has_text='Following').wait_for(timeout=15_000)
    await page.evaluate(COUNT_LINES)
    return page


async def bench_state(page: Page) -> dict[str, float]:
    return dict(await page.evaluate('() => ({...window.berthBench})'))


async def throughput_run(browser: Browser, panel: Panel, lines: int) -> dict[str, Any]:
    name = start_container(TRIGGERED.format(lines=lines))
    cli: CliFollower | None = None
    try:
        page = await open_logs(browser, panel, name)
        cli = CliFollower(name)
        cli.start()
        await asyncio.sleep(1.0)
        triggered = time.time()
        subprocess.run(['docker', 'exec', name, 'touch', '/tmp/go'], check=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            state = await bench_state(page)
            quiet = time.time() * 1000 - (state['last'] or time.time() * 1000) > 3000
            if cli.count >= lines and (state['count'] >= lines or quiet):
                break
        state = await bench_state(page)
        await page.context.close()
        cli_seconds = cli.last - triggered
        browser_seconds = state['last'] / 1000 - triggered
        return {
            'docker_logs_f': {
                'lines': cli.count,
                'seconds': round(cli_seconds, 2),
                'lines_per_s': round(cli.count / cli_seconds),
            },
            'browser': {
                'lines': int(state['count']),
                'seconds': round(browser_seconds, 2),
                'lines_per_s': round(state['count'] / browser_seconds),
                'dropped_from_view': lines - int(state['count']),
            },
        }
    finally:
        if cli is not None:
            cli.stop()
        subprocess.run(['docker', 'rm', '-f', name], capture_output=True, check=False)


def healthz_ms(panel: Panel, samples: int = 20) -> dict[str, float]:
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        with urllib.request.urlopen(f'{panel.base_url}/healthz', timeout=10) as response:
            response.read()
        timings.append((time.perf_counter() - started) * 1000)
        time.sleep(0.1)
    return {'p50': round(statistics.median(timings), 1), 'max': round(max(timings), 1)}


async def flood_and_memory(browser: Browser, viewers: int, settle: float) -> dict[str, Any]:
    """On a fresh panel, so that memory freed by the throughput runs does not hide what the viewers take."""
    name = start_container(FLOOD)
    cli = CliFollower(name)
    cli.start()
    try:
        with Panel() as panel:
            assert panel.process is not None
            pid = panel.process.pid
            page = await open_logs(browser, panel, name)
            idle_rss = rss_mb(pid)  # signed in, page open, before the flood is rendered
            await asyncio.sleep(settle / 2)
            before, produced_before, started = await bench_state(page), cli.count, time.time()
            await page.evaluate('() => { window.berthBench.maxGap = 0; }')
            health = await asyncio.to_thread(healthz_ms, panel)
            await asyncio.sleep(max(0.0, settle / 2 - (time.time() - started)))
            after, produced, seconds = await bench_state(page), cli.count - produced_before, time.time() - started
            one_viewer_rss = rss_mb(pid)
            clicked = time.perf_counter()
            await page.get_by_role('button', name='Stop following').click()
            await page.get_by_role('button', name='Resume following').wait_for(timeout=15_000)
            stop_ms = (time.perf_counter() - clicked) * 1000
            await page.get_by_role('button', name='Resume following').click()
            pages = [page, *[await open_logs(browser, panel, name) for _ in range(viewers - 1)]]
            counts = [(await bench_state(each))['count'] for each in pages]
            await asyncio.sleep(settle)
            ends = [(await bench_state(each))['count'] for each in pages]
            rates = [round((end - count) / settle) for end, count in zip(ends, counts, strict=True)]
            many_rss = rss_mb(pid)
            for each in pages:
                await each.context.close()
        return {
            'container_lines_per_s': round(produced / seconds),
            'browser_lines_per_s': round((after['count'] - before['count']) / seconds),
            'healthz_ms': health,
            'stop_click_to_resume_button_ms': round(stop_ms, 1),
            'page_longest_timer_gap_ms': round(after['maxGap'], 1),
            'memory': {
                'viewers': viewers,
                'first_page_open_rss_mb': idle_rss,
                'one_viewer_rss_mb': one_viewer_rss,
                'many_viewers_rss_mb': many_rss,
                'lines_per_s_each_of_many': rates,
                'mb_per_viewer': round((many_rss - one_viewer_rss) / (viewers - 1), 1),
            },
        }
    finally:
        cli.stop()
        subprocess.run(['docker', 'rm', '-f', name], capture_output=True, check=False)


async def run(arguments: argparse.Namespace) -> dict[str, Any]:
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        try:
            with Panel() as panel:
                try:
                    runs = [await throughput_run(browser, panel, arguments.lines) for _ in range(arguments.runs)]
                except BaseException:
                    print(f'panel log (tail):\n{panel.log()[-5000:]}', file=sys.stderr)
                    raise
            flood = await flood_and_memory(browser, arguments.viewers, arguments.settle)
        finally:
            await browser.close()
    cli_rate = statistics.median(run['docker_logs_f']['lines_per_s'] for run in runs)
    browser_rate = statistics.median(run['browser']['lines_per_s'] for run in runs)
    return {
        'measured_at': datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds'),
        'machine': {
            'cpus': os.cpu_count(),
            'load_average': [round(value, 2) for value in os.getloadavg()],
            'platform': platform.platform(),
            'python': platform.python_version(),
        },
        'lines': arguments.lines,
        'runs': runs,
        'docker_logs_f_lines_per_s': cli_rate,
        'browser_lines_per_s': browser_rate,
        'throughput_ratio': round(browser_rate / cli_rate, 3),
        'flood': flood,
        'goals': {
            'throughput_ratio_at_least': 0.5,
            'mb_per_viewer_below': 20,
            'throughput_met': browser_rate / cli_rate >= 0.5,
            'memory_met': flood['memory']['mb_per_viewer'] < 20,
        },
    }


def print_table(result: dict[str, Any]) -> None:
    flood, memory = result['flood'], result['flood']['memory']
    rows = [
        ('docker logs -f', f'{result["docker_logs_f_lines_per_s"]:,} lines/s', f'median of {len(result["runs"])} runs'),
        (
            'browser (Berth)',
            f'{result["browser_lines_per_s"]:,} lines/s',
            f'ratio {result["throughput_ratio"]} (goal ≥ 0.5), dropped from view: '
            f'{[run["browser"]["dropped_from_view"] for run in result["runs"]]}',
        ),
        ('flood: container', f'{flood["container_lines_per_s"]:,} lines/s', ''),
        ('flood: into the page', f'{flood["browser_lines_per_s"]:,} lines/s', 'the view keeps the last 5 000'),
        ('flood: /healthz', f'{flood["healthz_ms"]["p50"]} ms', f'max {flood["healthz_ms"]["max"]} ms'),
        ('flood: Stop following', f'{flood["stop_click_to_resume_button_ms"]} ms', 'click → button says Resume'),
        ('flood: page timer gap', f'{flood["page_longest_timer_gap_ms"]} ms', 'longest, 10 ms timer'),
        (
            'panel RSS',
            f'{memory["one_viewer_rss_mb"]} → {memory["many_viewers_rss_mb"]} MB',
            f'1 → {memory["viewers"]} viewers following the flood, '
            f'each at {memory["lines_per_s_each_of_many"]} lines/s',
        ),
        ('memory per viewer', f'{memory["mb_per_viewer"]} MB', 'goal < 20 MB'),
    ]
    width = max(len(name) for name, _, _ in rows)
    print(f'\nlogs bench, {result["lines"]:,} lines, load average {result["machine"]["load_average"]}')
    for name, value, note in rows:
        print(f'  {name:<{width}}  {value:>22}  {note}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument('--lines', type=int, default=300_000)
    parser.add_argument('--runs', type=int, default=2)
    parser.add_argument('--viewers', type=int, default=5)
    parser.add_argument('--settle', type=float, default=15.0)
    result = asyncio.run(run(parser.parse_args()))
    print_table(result)
    save_results(RESULTS, result)


if __name__ == '__main__':
    main()
