"""The soak part of bench/load.py: many pages, terminals and log follows opened and closed; what the panel holds
before and after, counted.

A fresh panel; a warm-up round first (a few page opens, one terminal, one log follow), then the baseline once it has
settled: RSS, threads (/proc/<pid>/task), connections to the Docker socket (the daemon's accepted sockets on it whose
peer is one of the panel's sockets, from `ss -x` and /proc/<pid>/fd), open files, and the processes in the terminal's
container. Then ``--opens`` page opens by Socket.IO clients (several viewers at once, each page's socket connected
for ``--dwell`` s, then closed like a tab), ``--terminals`` terminals and ``--logs`` log follows in headless Chromium
(each a new tab, until the shell's prompt or the log's lines show; then the tab is closed, every other terminal after
its Close button), spread over ``--soak-people`` operator accounts (each holds at most 8 of either at once, and a
closed tab lets go of its page ``reconnect_timeout`` later). Afterwards the same counts are taken every second until
threads and daemon connections are back at the baseline (or ``--settle`` s have passed).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, async_playwright

from bench.load_fleet import PREFIX, make_accounts, run_sleeper
from bench.page_clients import ClientProcess, opener_process
from bench.panel_process import Holdings, memory_snapshot, probe_environment, reset_probe
from tests.support.browser import launch_chromium, signed_in_page
from tests.support.panel import Panel

TERMINAL_CONTAINER = f'{PREFIX}soak-terminal'
LOGS_CONTAINER = f'{PREFIX}soak-logs'
PROMPT = '/ #'
MIN_SETTLE = 15.0


async def measure_soak(arguments: Any) -> dict[str, Any]:
    run_sleeper(TERMINAL_CONTAINER)
    run_sleeper(LOGS_CONTAINER, 'seq 1 200; sleep 3600')
    paths = ['/containers', '/images', '/jobs', '/volumes', '/networks', '/', f'/containers/{TERMINAL_CONTAINER}']
    probe = probe_environment(arguments.loop_probe, 'soak')
    panel = Panel(env=probe, root=arguments.panel_root).start(timeout=180)
    try:
        pid = panel.process.pid if panel.process else 0
        viewers = await asyncio.to_thread(make_accounts, panel.data_dir, 'bldsoakv', arguments.soak_people, 'viewer')
        operators = await asyncio.to_thread(
            make_accounts, panel.data_dir, 'bldsoako', arguments.soak_people, 'operator'
        )
        async with async_playwright() as playwright:
            browser = await launch_chromium(playwright)
            try:
                contexts = [await signed_in_context(browser, panel.base_url, *account) for account in operators]
                print('  warm-up', flush=True)
                await open_pages(panel, viewers, paths, max(arguments.opens // 10, 5 * len(paths)), arguments.dwell)
                await terminals(contexts, len(contexts) * 2)
                await log_follows(contexts, len(contexts) * 2)
                baseline, _ = await settled(pid, None, arguments.settle)
                await asyncio.to_thread(memory_snapshot, probe, 'baseline')
                shells_before = processes_in(TERMINAL_CONTAINER)
                reset_probe(probe)
                started = time.monotonic()
                print(f'  {arguments.opens} page opens', flush=True)
                pages = await open_pages(panel, viewers, paths, arguments.opens, arguments.dwell)
                print(f'  {arguments.terminals} terminals', flush=True)
                terminal_seconds = await terminals(contexts, arguments.terminals)
                print(f'  {arguments.logs} log follows', flush=True)
                log_seconds = await log_follows(contexts, arguments.logs)
                soaked = time.monotonic() - started
                right_after = Holdings.of(pid)
                for context in contexts:
                    await context.close()
            finally:
                await browser.close()
        after, waited = await settled(pid, baseline, arguments.settle)
        await asyncio.to_thread(memory_snapshot, probe, 'settled')
        trimmed = await asyncio.to_thread(ask_trim, probe)
        shells_after = processes_in(TERMINAL_CONTAINER)
    except Exception:
        print(f'panel log (tail):\n{panel.log()[-5000:]}')
        raise
    finally:
        panel.stop()
        subprocess.run(['docker', 'rm', '-f', TERMINAL_CONTAINER, LOGS_CONTAINER], check=False, capture_output=True)
    return {
        'settings': {
            'opens': arguments.opens,
            'terminals': arguments.terminals,
            'logs': arguments.logs,
            'people': arguments.soak_people,
            'dwell_s': arguments.dwell,
        },
        'seconds': round(soaked, 1),
        'page_opens': {key: value for key, value in pages.items() if key != 'open_ms'},
        'terminal_open_to_prompt_s_mean': round(terminal_seconds / max(arguments.terminals, 1), 3),
        'log_open_to_lines_s_mean': round(log_seconds / max(arguments.logs, 1), 3),
        'baseline': baseline.as_dict(),
        'right_after': right_after.as_dict(),
        'settled': after.as_dict(),
        'settled_after_s': round(waited, 1),
        'growth': {
            'rss_mb': round(after.rss_mb - baseline.rss_mb, 1),
            'threads': after.threads - baseline.threads,
            'daemon_connections': after.daemon_connections - baseline.daemon_connections,
            'open_files': after.open_files - baseline.open_files,
            'processes_in_terminal_container': shells_after - shells_before,
        },
        'malloc_trim': trimmed,
        'goals': {'rss_growth_mb_below': 20, 'threads_and_daemon_connections': 'back to the baseline'},
    }


async def signed_in_context(browser: Browser, base_url: str, username: str, password: str) -> BrowserContext:
    page = await signed_in_page(browser, base_url, username=username, password=password)
    await page.close()
    return page.context


async def open_pages(
    panel: Panel, accounts: list[tuple[str, str]], paths: list[str], opens: int, dwell: float
) -> dict[str, Any]:
    openers = ClientProcess(opener_process, panel.base_url, accounts, paths, opens, dwell)
    await openers.start()
    figures = await openers.finished(timeout=60 + opens * 2)
    if figures['failures']:
        print(f'  page opens that failed: {figures["failures"]} {figures["errors"]}', flush=True)
    return figures


async def terminals(contexts: list[BrowserContext], count: int) -> float:
    """Opens ``count`` terminal tabs one after the other, each until its prompt shows; seconds spent in all."""
    started = time.monotonic()
    for index in range(count):
        page = await contexts[index % len(contexts)].new_page()
        await page.goto(f'/containers/{TERMINAL_CONTAINER}/terminal')
        await page.locator('.xterm-rows').get_by_text(PROMPT).first.wait_for(timeout=30_000)
        if index % 2:  # every other one is closed with its button first, the others with their tab only
            await page.get_by_role('button', name='Close terminal').click()
            await page.locator('.xterm-rows').wait_for(state='detached', timeout=10_000)
        await page.close()
    return time.monotonic() - started


async def log_follows(contexts: list[BrowserContext], count: int) -> float:
    """Opens ``count`` log tabs one after the other, each until the view holds the container's 200 lines."""
    started = time.monotonic()
    for index in range(count):
        page = await contexts[index % len(contexts)].new_page()
        await page.goto(f'/containers/{LOGS_CONTAINER}/logs')
        await page.get_by_text('200 lines in view').wait_for(timeout=30_000)
        await page.close()
    return time.monotonic() - started


async def settled(pid: int, baseline: Holdings | None, limit: float) -> tuple[Holdings, float]:
    """The counts once the panel has let go of what was closed: at least MIN_SETTLE s (closed pages are deleted 5 s
    after their socket went, stats streams linger 10 s), then as soon as threads and daemon connections are back at
    ``baseline`` (without one: once they stood still for 5 s), or after ``limit`` s; and how long that took."""
    started, last, still_since = time.monotonic(), Holdings.of(pid), time.monotonic()
    while time.monotonic() - started < limit:
        await asyncio.sleep(1)
        now = Holdings.of(pid)
        if (now.threads, now.daemon_connections) != (last.threads, last.daemon_connections):
            still_since = time.monotonic()
        last = now
        if time.monotonic() - started < MIN_SETTLE:
            continue
        if baseline is None and time.monotonic() - still_since >= 5:
            return now, time.monotonic() - started
        back = baseline is not None and now.threads <= baseline.threads
        if back and baseline is not None and now.daemon_connections <= baseline.daemon_connections:
            return now, time.monotonic() - started
    return Holdings.of(pid), time.monotonic() - started


def ask_trim(probe: dict[str, str]) -> dict[str, float] | None:
    """With the loop probe: the panel's RSS before and after glibc's ``malloc_trim`` (free memory it kept)."""
    if 'BERTH_BENCH_LOOP_PROBE' not in probe:
        return None
    path = Path(probe['BERTH_BENCH_LOOP_PROBE'])
    Path(f'{path}.trim').write_text('trim')
    done = Path(f'{path}.trimmed')
    for _ in range(60):
        if done.exists():
            return dict(json.loads(done.read_text()))
        time.sleep(0.5)
    return None


def processes_in(container: str) -> int:
    """Processes running in the container (`docker top`), header line not counted."""
    listing = subprocess.run(['docker', 'top', container], check=False, capture_output=True, text=True).stdout
    return max(0, len(listing.strip().splitlines()) - 1)


def print_soak(result: dict[str, Any]) -> None:
    settings, growth = result['settings'], result['growth']
    baseline, after = result['baseline'], result['settled']
    print(
        f'\nsoak: {result["page_opens"]["pages_opened"]} page opens ({result["page_opens"]["failures"]} failed), '
        f'{settings["terminals"]} terminals, {settings["logs"]} log follows in {result["seconds"]} s'
    )
    for key in ('rss_mb', 'threads', 'daemon_connections', 'open_files'):
        print(
            f'  {key:<20} baseline {baseline[key]:>8}  right after {result["right_after"][key]:>8}  '
            f'settled {after[key]:>8}  growth {growth[key]:>6}'
        )
    print(f'  settled after {result["settled_after_s"]} s; processes left in the terminal\'s container: '
          f'{growth["processes_in_terminal_container"]}')  # fmt: skip
