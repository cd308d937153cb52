"""Terminal throughput and keystroke-to-echo latency in headless Chromium, next to raw `docker exec -t`.

    python bench/terminal.py [--megabytes 50] [--runs 3] [--keystrokes 300]

throughput: `head -c N /dev/zero | tr '\\0' a` in a busybox container. ``raw`` is `docker exec -t` with its output
to /dev/null; ``browser`` is the same command typed into Berth's terminal, timed in the page from the moment the
command is sent until xterm has parsed the marker line printed after the payload. latency: one character at a time
into `cat` (TTY echo), timed in the page from input until xterm has parsed the echoed character; once idle and once
while a second browser streams `yes` through its own terminal on the same panel.
Results go to bench/results/terminal.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.async_api import Page, async_playwright

from bench.common import (
    TERMINAL,
    echo_latencies,
    latency_summary,
    machine_facts,
    open_terminal,
    save_results,
    start_sleeper,
)
from tests.support import PROJECT_ROOT
from tests.support.browser import launch_chromium
from tests.support.panel import Panel

RESULTS = PROJECT_ROOT / 'bench' / 'results' / 'terminal.json'
MARKER = 'BENCH-42-END'
COUNT_WRITES = """(marker) => {
  const term = TERMINAL;
  const state = window.benchState = {t0: 0, t1: 0, tail: ''};
  if (!term.benchWrite) term.benchWrite = term.write.bind(term);
  term.write = (data, callback) => {
    const seen = (state.tail + data).includes(marker);
    state.tail = (state.tail + data).slice(-marker.length);
    return term.benchWrite(data, () => {
      if (seen && !state.t1) state.t1 = performance.now();
      if (callback) callback();
    });
  };
}""".replace('TERMINAL', TERMINAL)
SEND = '(line) => { window.benchState.t0 = performance.now(); ' + TERMINAL + '.input(line, true); }'


def payload_command(size: int) -> str:
    return f'head -c {size} /dev/zero | tr "\\0" a'


def raw_throughput(container: str, size: int) -> float:
    """MB/s of `docker exec -t` (a TTY in the container, like the terminal's) with the output thrown away."""
    started = time.perf_counter()
    subprocess.run(
        ['docker', 'exec', '-t', container, 'sh', '-c', payload_command(size)], check=True, stdout=subprocess.DEVNULL
    )
    return size / (time.perf_counter() - started) / 1e6


async def browser_throughput(page: Page, size: int) -> float:
    await page.evaluate(COUNT_WRITES, MARKER)
    await page.evaluate(SEND, f'{payload_command(size)}; echo; echo BENCH-$((6*7))-END\r')
    await page.wait_for_function('window.benchState.t1 > 0', timeout=600_000, polling=50)
    seconds = await page.evaluate('(window.benchState.t1 - window.benchState.t0) / 1000')
    await page.evaluate(f'{TERMINAL}.input("clear\\r", true)')
    return size / seconds / 1e6


async def run(arguments: argparse.Namespace) -> dict[str, Any]:
    size = int(arguments.megabytes * 1e6)
    load_before = os.getloadavg()
    container = f'berth-bench-terminal-{uuid.uuid4().hex[:8]}'
    start_sleeper(container)
    try:
        with Panel() as panel:
            panel.wait_healthy(30, min_containers=1)
            async with async_playwright() as playwright:
                browser, flood_browser = await launch_chromium(playwright), await launch_chromium(playwright)
                try:
                    page = await open_terminal(browser, panel.base_url, container)
                    raw, shown = [], []
                    for _ in range(arguments.runs):
                        raw.append(raw_throughput(container, size))
                        shown.append(await browser_throughput(page, size))
                    idle = await echo_latencies(page, arguments.keystrokes)
                    flood = await open_terminal(flood_browser, panel.base_url, container)
                    await flood.evaluate(f'{TERMINAL}.input("yes\\r", true)')
                    await flood.wait_for_timeout(1000)
                    busy = await echo_latencies(page, arguments.keystrokes)
                    await flood.evaluate(f'{TERMINAL}.input("\\u0003", true)')
                except Exception:
                    print(f'panel log (tail):\n{panel.log()[-5000:]}', file=sys.stderr)
                    raise
                finally:
                    await browser.close()
                    await flood_browser.close()
    finally:
        subprocess.run(['docker', 'rm', '-f', container], check=False, capture_output=True)
    raw_mb_s, shown_mb_s = statistics.median(raw), statistics.median(shown)
    idle_summary, busy_summary = latency_summary(idle), latency_summary(busy)
    return {
        'measured_at': datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds'),
        'machine': machine_facts(load_before),
        'payload_bytes': size,
        'runs': arguments.runs,
        'raw_docker_exec_tty_mb_s': {'median': round(raw_mb_s, 2), 'all': [round(value, 2) for value in raw]},
        'browser_terminal_mb_s': {'median': round(shown_mb_s, 2), 'all': [round(value, 2) for value in shown]},
        'throughput_ratio': round(shown_mb_s / raw_mb_s, 3),
        'echo_latency_idle': idle_summary,
        'echo_latency_during_flood': busy_summary,
        'goals': {
            'throughput_ratio_at_least': round(1 / 3, 3),
            'echo_p99_ms_below': 30,
            'throughput_met': shown_mb_s / raw_mb_s >= 1 / 3,
            'latency_met': busy_summary['p99_ms'] < 30,
        },
    }


def print_table(result: dict[str, Any]) -> None:
    rows = [
        ('raw `docker exec -t` (MB/s)', f'{result["raw_docker_exec_tty_mb_s"]["median"]:.1f}', ''),
        (
            'Berth terminal in Chromium (MB/s)',
            f'{result["browser_terminal_mb_s"]["median"]:.1f}',
            f'ratio {result["throughput_ratio"]:.2f} (goal >= 0.33)',
        ),
        (
            'echo p50 / p99, idle (ms)',
            f'{result["echo_latency_idle"]["p50_ms"]:.1f} / {result["echo_latency_idle"]["p99_ms"]:.1f}',
            '',
        ),
        (
            'echo p50 / p99, other browser flooding (ms)',
            f'{result["echo_latency_during_flood"]["p50_ms"]:.1f} / '
            f'{result["echo_latency_during_flood"]["p99_ms"]:.1f}',
            'goal p99 < 30',
        ),
    ]
    width = max(len(row[0]) for row in rows)
    load = result['machine']['load_average_1min_before_and_after']
    print(
        f'\nterminal bench, {result["payload_bytes"] / 1e6:.0f} MB payload, median of {result["runs"]} runs, '
        f'{result["machine"]["cpus"]} CPUs, load average {load[0]} before / {load[1]} after'
    )
    for name, value, note in rows:
        print(f'  {name:<{width}}  {value:>12}  {note}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--megabytes', type=float, default=50)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--keystrokes', type=int, default=300)
    result = asyncio.run(run(parser.parse_args()))
    print_table(result)
    save_results(RESULTS, result)


if __name__ == '__main__':
    main()
