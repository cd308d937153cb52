"""A sandbox run through the panel (click on Run in Chromium → first output byte on the page, → the status line says
it finished) next to `docker run --rm` of the same image with the same options, in the same run; with runc (the
host's engine) and with gVisor (runsc, registered on an engine the bench starts itself); then runs per minute at the
concurrency limit, for both.

    python bench/sandbox.py [--runs 10] [--concurrency 4] [--burst 40] [--isolation runc runsc]

Per isolation, a fresh panel (embedded broker, ``BERTH_SANDBOX_CONCURRENCY``/``_PER_USER`` = ``--concurrency``) with
one runtime from its runtimes.yaml (busybox, ``sh /sandbox/main.sh``); the script is ``echo hello``. Latency: ``--runs``
pairs, the order alternating: the panel's (in the page: ``performance.now()`` from the click to the first character in
the output area, and to the status line of that run saying Finished) and the CLI's (`docker run --rm` with every
option the worker uses: from the process start to its first stdout byte, and to its exit). Throughput: ``--burst``
clicks on Run as fast as the page takes them; runs per minute from the first run's creation to the last one's end
(the panel's database), next to ``--burst`` `docker run --rm` on ``--concurrency`` threads.
Results go to bench/results/sandbox.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.async_api import Page, async_playwright

from bench.common import machine_facts, save_results
from core.sandbox.container import BOOTSTRAP
from core.sandbox.limits import DEFAULT_LIMITS
from tests.support import BUSYBOX, PROJECT_ROOT
from tests.support.browser import launch_chromium, signed_in_page
from tests.support.engine import GVISOR, started_engine
from tests.support.panel import Panel

RESULTS = PROJECT_ROOT / 'bench' / 'results' / 'sandbox.json'
SCRIPT = 'echo hello'
GOAL = 1.5
RUNTIMES = f"""- name: bench-sh
  image: {BUSYBOX}
  command: sh /sandbox/main.sh
  filename: main.sh
"""
# Clicks Run; resolves with ms from the click to the first output of the new run and to its end (its status line)
MEASURE = """() => new Promise((resolve) => {
  const status = document.querySelector('[data-berth=run-status]');
  const output = document.querySelector('.berth-run-output');
  const before = status.getAttribute('data-run');
  output.textContent = '';  // the last run's output goes (the new run's may arrive before or after its status line)
  let first = null;
  const t0 = performance.now();
  const check = () => {
    if (status.getAttribute('data-run') === before) return;
    if (first === null && output.textContent.length > 0) first = performance.now() - t0;
    if (/^(Finished|Stopped|Failed)/.test(status.textContent)) {
      observer.disconnect();
      resolve({first_ms: first, finished_ms: performance.now() - t0, status: status.textContent});
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
  document.querySelector('[data-berth=run]').click();
})"""
CLICK = """() => new Promise((resolve) => {
  const button = document.querySelector('[data-berth=run]');
  const wait = () => button.disabled ? setTimeout(wait, 5) : resolve(true);
  button.click();
  setTimeout(wait, 5);
})"""


def docker_run_arguments(host: list[str], runtime: str) -> list[str]:
    """`docker run --rm` with the options the worker gives a run (core/sandbox/container.py), the same bootstrap."""
    limits = DEFAULT_LIMITS
    tmpfs = f'rw,noexec,nosuid,nodev,size={limits.tmpfs},uid=65534,gid=65534,mode=1777'
    script = SCRIPT.encode()
    return [
        'docker',
        *host,
        'run',
        '--rm',
        '-i',
        '--label',
        'berth-bench=1',
        *(['--runtime', runtime] if runtime else []),
        '--network',
        'none',
        '--read-only',
        '--tmpfs',
        f'/sandbox:{tmpfs}',
        '--tmpfs',
        f'/tmp:{tmpfs}',
        '--cap-drop',
        'ALL',
        '--security-opt',
        'no-new-privileges:true',
        '--pids-limit',
        str(limits.pids + (64 if runtime == 'runsc' else 0)),
        '--memory',
        str(limits.memory),
        '--memory-swap',
        str(limits.memory),
        '--cpus',
        str(limits.cpus),
        '--ulimit',
        f'nofile={limits.nofile}',
        '--ulimit',
        f'fsize={limits.fsize}',
        '--ipc',
        'private',
        '--log-driver',
        'none',
        '--user',
        '65534:65534',
        '--workdir',
        '/sandbox',
        '--entrypoint',
        'sh',
        BUSYBOX,
        '-c',
        BOOTSTRAP,
        'berth-sandbox',
        str(len(script)),
        'main.sh',
        'sh',
        '/sandbox/main.sh',
    ]


def cli_run(arguments: list[str]) -> dict[str, float]:
    started = time.perf_counter()
    process = subprocess.Popen(arguments, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(SCRIPT.encode())
    process.stdin.close()
    process.stdout.read(1)
    first = time.perf_counter() - started
    process.stdout.read()
    process.wait()
    return {'first_ms': first * 1000, 'finished_ms': (time.perf_counter() - started) * 1000}


@contextmanager
def engine_for(isolation: str) -> Iterator[tuple[list[str], dict[str, str]]]:
    """The docker CLI's host arguments and the panel's environment for ``isolation`` (runsc: an engine of our own)."""
    if isolation == 'runc':
        yield [], {}
        return
    with (
        tempfile.TemporaryDirectory(prefix='berth-bench-gvisor-') as root,
        started_engine(Path(root), 'btsbxb0', address='172.31.254.1/24', config=dict(GVISOR)) as engine,
    ):
        yield ['-H', engine.url], {'DOCKER_HOST': engine.url, 'BERTH_SANDBOX_RUNTIME': 'runsc'}


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {'n': len(ordered), 'median_ms': round(statistics.median(ordered), 1), 'max_ms': round(ordered[-1], 1)}


async def measure(isolation: str, runs: int, concurrency: int, burst: int) -> dict[str, Any]:
    with engine_for(isolation) as (host, environment):
        panel = Panel(
            env={
                **environment,
                'BERTH_SANDBOX_CONCURRENCY': str(concurrency),
                'BERTH_SANDBOX_PER_USER': str(concurrency),
                'BERTH_SANDBOX_HISTORY': str(burst + runs + 10),
            }
        )
        panel.data_dir.mkdir(parents=True, exist_ok=True)
        (panel.data_dir / 'runtimes.yaml').write_text(RUNTIMES)
        panel.start(timeout=60)
        arguments = docker_run_arguments(host, 'runsc' if isolation == 'runsc' else '')
        try:
            async with async_playwright() as playwright:
                browser = await launch_chromium(playwright)
                page = await signed_in_page(browser, panel.base_url, password=panel.password, path='/run')
                await page.locator('.cm-content').click()
                await page.keyboard.type(SCRIPT)
                await page_run(page)  # warm up both paths once
                cli_run(arguments)
                panel_runs, cli_runs = [], []
                for index in range(runs):
                    if index % 2:
                        cli_runs.append(cli_run(arguments))
                        panel_runs.append(await page_run(page))
                    else:
                        panel_runs.append(await page_run(page))
                        cli_runs.append(cli_run(arguments))
                throughput = await panel_burst(page, panel, burst)
                await browser.close()
        finally:
            panel.stop()
        cli_throughput = cli_burst(arguments, burst, concurrency)
    result: dict[str, Any] = {
        'panel_first_output': summary([run['first_ms'] for run in panel_runs]),
        'panel_finished': summary([run['finished_ms'] for run in panel_runs]),
        'cli_first_output': summary([run['first_ms'] for run in cli_runs]),
        'cli_finished': summary([run['finished_ms'] for run in cli_runs]),
        'panel_runs_per_minute': throughput,
        'cli_runs_per_minute': cli_throughput,
        'statuses': sorted({run['status'].split(' · ')[0] for run in panel_runs}),
    }
    for key in ('first_output', 'finished'):
        result[f'ratio_{key}'] = round(result[f'panel_{key}']['median_ms'] / result[f'cli_{key}']['median_ms'], 2)
    result['within_goal'] = result['ratio_finished'] <= GOAL
    return result


async def page_run(page: Page) -> dict[str, Any]:
    measured: dict[str, Any] = await page.evaluate(MEASURE)
    if not str(measured['status']).startswith('Finished') or measured['first_ms'] is None:
        raise RuntimeError(f'the run did not finish with output: {measured}')
    return measured


async def panel_burst(page: Page, panel: Panel, burst: int) -> float:
    """Clicks Run until ``burst`` more runs exist (a click while the button is busy is lost: clicked again), waits for
    them to finish; runs per minute from the first one's creation to the last one's end."""
    database = panel.data_dir / 'berth.sqlite3'
    before = _count(database, '1')
    deadline = time.monotonic() + 600
    while _count(database, '1') < before + burst:
        await page.evaluate(CLICK)
        await asyncio.sleep(0.05)  # the run's row is written by the database's writer thread
    while _count(database, "phase = 'finished'") < before + burst:
        if time.monotonic() > deadline:
            raise RuntimeError('the burst of runs did not finish in 10 minutes')
        await asyncio.sleep(0.25)
    with sqlite3.connect(database) as connection:
        first, last = connection.execute(
            'SELECT MIN(created_at), MAX(finished_at) FROM '
            '(SELECT created_at, finished_at FROM sandbox_runs ORDER BY created_at DESC LIMIT ?)',
            (burst,),
        ).fetchone()
    return round(burst / (last - first) * 60, 1)


def _count(database: Path, where: str) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute(f'SELECT COUNT(*) FROM sandbox_runs WHERE {where}').fetchone()[0])


def cli_burst(arguments: list[str], burst: int, concurrency: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda _: cli_run(arguments), range(burst)))
    return round(burst / (time.perf_counter() - started) * 60, 1)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--runs', type=int, default=10)
    parser.add_argument('--concurrency', type=int, default=4)
    parser.add_argument('--burst', type=int, default=40)
    parser.add_argument('--isolation', nargs='+', default=['runc', 'runsc'], choices=['runc', 'runsc'])
    args = parser.parse_args()
    load_before = os.getloadavg()
    results: dict[str, Any] = {
        'date': datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds'),
        'script': SCRIPT,
        'runs': args.runs,
        'concurrency': args.concurrency,
        'burst': args.burst,
        'goal': f'panel finished within {GOAL}x of docker run --rm',
    }
    for isolation in args.isolation:
        print(f'{isolation}: {args.runs} runs each way, then {args.burst} at {args.concurrency} at once…', flush=True)
        results[isolation] = await measure(isolation, args.runs, args.concurrency, args.burst)
        print(results[isolation], flush=True)
    results['machine'] = machine_facts(load_before)
    save_results(RESULTS, results)


if __name__ == '__main__':
    try:
        asyncio.run(main())
    finally:
        for label in ('berth-bench=1', 'berth.sandbox=1'):
            leftovers = subprocess.run(
                ['docker', 'ps', '-aq', '--filter', f'label={label}'], capture_output=True, text=True
            ).stdout.split()
            subprocess.run(['docker', 'rm', '-f', *leftovers], capture_output=True)
