"""Deploying a five-service stack through the page (Chromium: click on Deploy → the deployment log says succeeded)
next to `docker compose up -d` of the same file with the same compose binary, in the same run.

    python bench/stacks.py [--runs 5]

A fresh panel (embedded broker); each run deploys the file as a new project both ways (the order alternating), so
both create five containers and a network from images already present; the projects are taken down between runs (not
timed). The panel's figure includes what it does beyond compose: the checks at dispatch (compose config, the body
policy), the saved version, the job, the worker's own check (the body policy on the signed normalised file, which it
runs) and the page's live log. Goal: within 10 %.
Results go to bench/results/stacks.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.async_api import Page, async_playwright

from bench.common import machine_facts, save_results
from core.stacks.compose import find_compose
from tests.support import BUSYBOX, PROJECT_ROOT
from tests.support.browser import launch_chromium, signed_in_page
from tests.support.panel import Panel

RESULTS = PROJECT_ROOT / 'bench' / 'results' / 'stacks.json'
GOAL = 1.10
SERVICES = ('web', 'api', 'worker', 'cache', 'db')
COMPOSE = 'services:\n' + ''.join(
    f'  {name}:\n    image: {BUSYBOX}\n    command: ["sleep", "3600"]\n    stop_signal: SIGKILL\n' for name in SERVICES
)
# Clicks Deploy; resolves with ms from the click to the deployment log's status saying how the action ended
DEPLOY = """() => new Promise((resolve) => {
  const badge = () => document.querySelector('[aria-label="Action status"]');
  const t0 = performance.now();
  const check = () => {
    const text = (badge() && badge().textContent || '').trim();
    if (text === 'succeeded' || text === 'failed') {
      observer.disconnect();
      resolve({ms: performance.now() - t0, status: text});
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(document.body, {subtree: true, childList: true, characterData: true});
  document.querySelector('button[aria-label="Deploy"]').click();
})"""


def down(compose: str, project: str) -> None:
    subprocess.run([compose, '-p', project, 'down', '--remove-orphans'], check=False, capture_output=True)


def cli_deploy(compose: str, file: Path, project: str) -> float:
    started = time.perf_counter()
    subprocess.run([compose, '-p', project, '-f', str(file), 'up', '-d'], check=True, capture_output=True)
    return (time.perf_counter() - started) * 1000


async def page_deploy(page: Page, base_url: str, project: str) -> float:
    await page.goto(f'{base_url}/stacks/{project}')
    editor = page.locator('[aria-label="compose.yaml"] .cm-content')
    await editor.wait_for(timeout=15_000)
    await editor.fill(COMPOSE)
    measured: dict[str, Any] = await page.evaluate(DEPLOY)
    if measured['status'] != 'succeeded':
        raise RuntimeError(f'the deploy of {project} did not succeed: {measured}')
    return float(measured['ms'])


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {'n': len(ordered), 'median_ms': round(statistics.median(ordered), 1), 'max_ms': round(ordered[-1], 1)}


async def measure(runs: int) -> dict[str, Any]:
    compose = find_compose()
    binary = str(compose.path)
    panel = Panel().start(timeout=60)
    prefix = f'bst-bench-{uuid.uuid4().hex[:6]}'
    projects: list[str] = []
    panel_ms, cli_ms = [], []
    try:
        with tempfile.TemporaryDirectory(prefix='berth-bench-stack-') as folder:
            file = Path(folder) / 'compose.yaml'
            file.write_text(COMPOSE)
            async with async_playwright() as playwright:
                browser = await launch_chromium(playwright)
                page = await signed_in_page(browser, panel.base_url, password=panel.password, path='/stacks')
                for index in range(runs + 1):  # the first pair warms both paths up and is not counted
                    web, cli = f'{prefix}-p{index}', f'{prefix}-c{index}'
                    projects += [web, cli]
                    if index % 2:
                        cli_took = cli_deploy(binary, file, cli)
                        page_took = await page_deploy(page, panel.base_url, web)
                    else:
                        page_took = await page_deploy(page, panel.base_url, web)
                        cli_took = cli_deploy(binary, file, cli)
                    if index:
                        cli_ms.append(cli_took)
                        panel_ms.append(page_took)
                    down(binary, web)
                    down(binary, cli)
                await browser.close()
    finally:
        panel.stop()
        for project in projects:
            down(binary, project)
    result: dict[str, Any] = {
        'compose': compose.title,
        'panel_deploy': summary(panel_ms),
        'cli_up': summary(cli_ms),
    }
    result['ratio'] = round(result['panel_deploy']['median_ms'] / result['cli_up']['median_ms'], 2)
    result['within_goal'] = result['ratio'] <= GOAL
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--runs', type=int, default=5)
    args = parser.parse_args()
    load_before = os.getloadavg()
    results: dict[str, Any] = {
        'date': datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds'),
        'services': len(SERVICES),
        'runs': args.runs,
        'goal': f'deploy through the page within {GOAL:.2f}x of docker compose up -d',
    }
    print(f'{args.runs} deploys of {len(SERVICES)} services each way…', flush=True)
    results.update(await measure(args.runs))
    print(results, flush=True)
    results['machine'] = machine_facts(load_before)
    save_results(RESULTS, results)


if __name__ == '__main__':
    asyncio.run(main())
