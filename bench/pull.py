"""Pull through the panel (click to 'succeeded' in Chromium) next to `docker pull` of the same image, same run.

    python bench/pull.py [--megabytes 100] [--layers 4] [--runs 5] [--throttle 25]

A local registry (Debian docker-registry on a free 127.0.0.1 port) serves an image FROM berth-test/busybox with
``--layers`` layers of random bytes (``--megabytes`` in all), so every pull downloads and extracts for real. Two
scenarios: ``loopback`` (straight to the registry) and ``throttled`` (through a TCP proxy that passes
``--throttle`` MB/s, like a registry on a LAN). Per run the image is removed first, then pulled once with
`docker pull -q` and once through the panel (the order alternates). Panel timings: ``browser`` from the click on
Pull on /images until the job page shows 'succeeded'; ``server`` the job's own queued → succeeded in the panel's
database. The job page's socket frames that carry the overall progress bar are counted: ``progress/s`` over the
pull, and the busiest one-second window (the actor coalesces to at most ~10 a second).
Results go to bench/results/pull.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import docker
from playwright.async_api import Page, async_playwright

from bench.common import save_results
from tests.support import PROJECT_ROOT
from tests.support.browser import launch_chromium, signed_in_page
from tests.support.panel import Panel
from tests.support.registry import LocalRegistry, ThrottledProxy, build_layered_image, push_and_forget

RESULTS = PROJECT_ROOT / 'bench' / 'results' / 'pull.json'
SUCCEEDED = "document.querySelector('[aria-label=\"Pull status\"]')?.textContent?.trim() === 'succeeded'"
GOAL = 1.10


def forget(reference: str) -> None:
    subprocess.run(['docker', 'rmi', '-f', reference], check=False, capture_output=True)


def cli_pull(reference: str) -> float:
    forget(reference)
    started = time.perf_counter()
    subprocess.run(['docker', 'pull', '-q', reference], check=True, capture_output=True)
    return time.perf_counter() - started


async def panel_pull(page: Page, panel: Panel, reference: str, frames: list[tuple[float, str]]) -> dict[str, Any]:
    forget(reference)
    await page.goto('/images')
    await page.get_by_label('Image reference').fill(reference)
    await page.wait_for_timeout(1000)  # let the page load's own rendering finish before the clock starts
    frames.clear()
    started = time.perf_counter()
    await page.get_by_role('button', name='Pull', exact=True).click()
    await page.wait_for_function(SUCCEEDED, polling='raf', timeout=300_000)
    browser_seconds = time.perf_counter() - started
    job_id = (await page.get_by_role('link', name='Job page').get_attribute('href') or '').rsplit('/', 1)[1]
    with sqlite3.connect(panel.data_dir / 'berth.sqlite3') as database:
        created, started_at, finished = database.execute(
            'SELECT created_at, started_at, finished_at FROM jobs WHERE job_id = ?', (job_id,)
        ).fetchone()
    stamps = [at for at, payload in frames if 'Overall progress' in payload]
    pulling = max(finished - started_at, 1e-3)
    busiest = max((sum(1 for other in stamps if stamp <= other < stamp + 1) for stamp in stamps), default=0)
    return {
        'browser_s': browser_seconds,
        'server_s': finished - created,
        'progress_frames': len(stamps),
        'progress_per_s': len(stamps) / pulling,
        'busiest_second': busiest,
        'socket_frames': sum(1 for at, _ in frames if at >= time.time() - browser_seconds - 1),
    }


async def scenario(
    page: Page, panel: Panel, reference: str, runs: int, frames: list[tuple[float, str]]
) -> dict[str, Any]:
    cli_pull(reference)  # warm-up: both paths once, not counted
    await panel_pull(page, panel, reference, frames)
    cli: list[float] = []
    through_panel: list[dict[str, Any]] = []
    for run in range(runs):
        if run % 2 == 0:
            cli.append(cli_pull(reference))
            through_panel.append(await panel_pull(page, panel, reference, frames))
        else:
            through_panel.append(await panel_pull(page, panel, reference, frames))
            cli.append(cli_pull(reference))
        print(
            f'  run {run + 1}: docker pull {cli[-1]:.3f} s, panel {through_panel[-1]["browser_s"]:.3f} s '
            f'(server {through_panel[-1]["server_s"]:.3f} s, {through_panel[-1]["progress_frames"]} progress '
            'frames)',
            flush=True,
        )
    forget(reference)

    def median(key: str) -> float:
        return round(statistics.median(result[key] for result in through_panel), 3)

    cli_median = statistics.median(cli)
    return {
        'reference': reference,
        'runs': runs,
        'docker_pull_s': {'median': round(cli_median, 3), 'all': [round(value, 3) for value in cli]},
        'panel_browser_s': {
            'median': median('browser_s'),
            'all': [round(result['browser_s'], 3) for result in through_panel],
        },
        'panel_server_s': {
            'median': median('server_s'),
            'all': [round(result['server_s'], 3) for result in through_panel],
        },
        'ratio_browser': round(median('browser_s') / cli_median, 3),
        'ratio_server': round(median('server_s') / cli_median, 3),
        'progress_per_s': median('progress_per_s'),
        'busiest_second': max(result['busiest_second'] for result in through_panel),
        'progress_frames': [result['progress_frames'] for result in through_panel],
        'goal_met': median('browser_s') / cli_median <= GOAL,
    }


async def run(arguments: argparse.Namespace) -> dict[str, Any]:
    client = docker.DockerClient(base_url='unix:///var/run/docker.sock', timeout=300)
    load_before = [round(value, 2) for value in os.getloadavg()]
    sizes = [arguments.megabytes / arguments.layers] * arguments.layers
    results: dict[str, Any] = {}
    with LocalRegistry() as registry:
        local = f'berth-test/pull-bench:{uuid.uuid4().hex[:8]}'
        build_layered_image(client, local, sizes)
        remote = push_and_forget(client, local, registry.address, f'berth-bench/pull:{uuid.uuid4().hex[:8]}')
        proxy = ThrottledProxy(registry.port, int(arguments.throttle * 1e6))
        scenarios = {'loopback': remote, 'throttled': remote.replace(registry.address, proxy.address)}
        try:
            with Panel() as panel:
                async with async_playwright() as playwright:
                    browser = await launch_chromium(playwright)
                    page = await signed_in_page(browser, panel.base_url, password=panel.password, path='/images')
                    frames: list[tuple[float, str]] = []
                    page.on(
                        'websocket',
                        lambda socket: socket.on(
                            'framereceived', lambda payload: frames.append((time.time(), str(payload)))
                        ),
                    )
                    for name, reference in scenarios.items():
                        print(f'{name}: {reference}', flush=True)
                        results[name] = await scenario(page, panel, reference, arguments.runs, frames)
                    await browser.close()
        finally:
            proxy.close()
            for reference in scenarios.values():
                forget(reference)
    return {
        'bench': 'pull',
        'date': datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds'),
        'machine': {
            'cpus': os.cpu_count(),
            'platform': platform.platform(),
            'python': platform.python_version(),
            'docker': client.version().get('Version'),
            'load_average_before': load_before,
            'load_average': [round(value, 2) for value in os.getloadavg()],
        },
        'image': {'megabytes': arguments.megabytes, 'layers': arguments.layers},
        'throttle_mb_s': arguments.throttle,
        'goal': f'panel (click to succeeded) within {GOAL - 1:.0%} of docker pull',
        'results': results,
    }


def print_table(report: dict[str, Any]) -> None:
    print(
        f'\npull bench, {report["image"]["megabytes"]:.0f} MB in {report["image"]["layers"]} layers, '
        f'median of {next(iter(report["results"].values()))["runs"]} runs, load {report["machine"]["load_average"]}'
    )
    print(
        f'{"scenario":<10} {"docker pull":>12} {"panel":>8} {"server":>8} {"ratio":>6} {"progress/s":>11} '
        f'{"busiest 1 s":>12}'
    )
    for name, result in report['results'].items():
        print(
            f'{name:<10} {result["docker_pull_s"]["median"]:>10.3f} s {result["panel_browser_s"]["median"]:>6.3f} s '
            f'{result["panel_server_s"]["median"]:>6.3f} s {result["ratio_browser"]:>6.3f} '
            f'{result["progress_per_s"]:>11.1f} {result["busiest_second"]:>12}'
        )
    print(f'goal: {report["goal"]}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--megabytes', type=float, default=100)
    parser.add_argument('--layers', type=int, default=4)
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--throttle', type=float, default=25, help='MB/s through the proxy (throttled scenario)')
    report = asyncio.run(run(parser.parse_args()))
    print_table(report)
    save_results(RESULTS, report)


if __name__ == '__main__':
    main()
