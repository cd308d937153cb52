"""The ``dashboard`` measurement of bench/stats.py: the dashboard open at 500 running containers, the panel's CPU % and
the daemon requests per second it adds.

    python bench/stats.py --measure dashboard [--containers 500] [--seconds 30] [--prefix zzbench-usage-] [--keep]

Makes sure N busybox containers run `sleep` (created and started in parallel through the SDK, without a network,
labelled ``berth-bench=1`` and ``berth-bench-kind=usage``; all running, none stopped), starts the panel with
DOCKER_HOST pointing at a counting proxy in front of the Docker socket (``tests/support/counting_proxy.py``: every
HTTP request that passes), signs in on /jobs (no Docker reads) and lets it settle. Then two windows of ``--seconds``
each: no page showing Docker figures, then the dashboard open in Chromium (the window starts just before the
navigation, so the page's one-off reads — disk usage, engine facts — count). Per window: the daemon requests the
panel made (by kind), per second, those of the kinds only a page asks for (stats, info, version, df: the engine is
shared, and inspects after other people's events come in either window), and the panel's CPU (user + system time of
its process over the window, in % of one core). The containers are removed at the end (unless ``--keep``).
``measure_dashboard`` returns the section bench/stats.py saves as ``dashboard`` in bench/results/stats.json.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import docker
from playwright.async_api import async_playwright

from tests.support import BUSYBOX, PROJECT_ROOT
from tests.support.browser import launch_chromium, signed_in_page
from tests.support.counting_proxy import CountingProxy
from tests.support.panel import Panel

RESULTS = PROJECT_ROOT / 'bench' / 'results' / 'stats_dashboard.json'
LABELS = {'berth-bench': '1', 'berth-bench-kind': 'usage'}  # never touch other benches' containers
TICKS = os.sysconf('SC_CLK_TCK')
SETTLE_S = 10  # after start: the watcher's resync of N containers, the first page's own start-up
IDS = re.compile(r'/(sha256:)?[0-9a-f]{12,64}(?=[/?]|$)')
# what only a page showing Docker figures asks for; the rest (inspects after events) comes from whatever else the
# shared engine is doing meanwhile, page or no page
PAGE_KINDS = ('/stats?', '/info', '/version', '/system/df')
GOAL_REQUESTS_PER_SECOND = 2.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far (``/proc/<pid>/stat`` fields 14 and 15)."""
    fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def ensure_running(client: docker.DockerClient, count: int, prefix: str) -> list[str]:
    """``prefix0000``… running ``sleep``: missing ones created, stopped ones started, in parallel."""
    existing = {
        str(summary['Names'][0]).lstrip('/'): summary
        for summary in client.api.containers(all=True, filters={'label': [f'{k}={v}' for k, v in LABELS.items()]})
    }

    def ensure(name: str) -> str:
        summary = existing.get(name)
        if summary is None:
            container_id = str(
                client.api.create_container(
                    BUSYBOX,
                    command=['sleep', '7200'],
                    name=name,
                    labels=LABELS,
                    stop_signal='SIGKILL',
                    host_config=client.api.create_host_config(network_mode='none'),
                )['Id']
            )
        else:
            container_id = str(summary['Id'])
        if summary is None or summary['State'] != 'running':
            client.api.start(container_id)
        return container_id

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(ensure, [f'{prefix}{index:04d}' for index in range(count)]))


def remove_all(client: docker.DockerClient) -> None:
    filters = {'label': [f'{key}={value}' for key, value in LABELS.items()]}
    ids = [summary['Id'] for summary in client.api.containers(all=True, filters=filters)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda container_id: client.api.remove_container(container_id, force=True), ids))


def kind_of(request: str) -> str:
    """'GET /v1.41/containers/{id}/stats?stream=0': ids folded, the API version dropped."""
    method, _, path = request.partition(' ')
    return f'{method} {IDS.sub("/{id}", re.sub(r"^/v[0-9.]+", "", path))}'


async def window(proxy: CountingProxy, pid: int, seconds: float) -> dict[str, Any]:
    """The panel's daemon requests and CPU over the next ``seconds``."""
    cpu_before, started = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    ended = time.monotonic()
    requests = proxy.requests_between(started, ended)
    elapsed = ended - started
    return {
        'seconds': round(elapsed, 2),
        'requests': len(requests),
        'requests_per_second': round(len(requests) / elapsed, 3),
        'panel_cpu_percent': round(100 * (cpu_seconds(pid) - cpu_before) / elapsed, 2),
        'page_requests_per_second': round(sum(1 for r in requests if any(k in r for k in PAGE_KINDS)) / elapsed, 3),
        'request_kinds': dict(Counter(kind_of(request) for request in requests).most_common()),
    }


async def measure_dashboard(
    *, containers: int = 500, seconds: float = 30.0, prefix: str = 'zzbench-usage-', keep: bool = False
) -> dict[str, Any]:
    """The ``dashboard`` section: N running containers, the panel with and without the dashboard open."""
    client = docker.DockerClient(base_url='unix:///var/run/docker.sock', timeout=120)
    started = time.time()
    try:
        ensure_running(client, containers, prefix)
        print(f'{containers} containers running in {time.time() - started:.0f} s', flush=True)
        with tempfile.TemporaryDirectory(prefix='berth-bench-') as folder:
            proxy = CountingProxy(Path(folder) / 'docker.sock')
            panel = Panel(env={'DOCKER_HOST': proxy.url}).start(timeout=300, min_containers=containers)
            try:
                assert panel.process is not None
                pid = panel.process.pid
                async with async_playwright() as playwright:
                    browser = await launch_chromium(playwright)
                    page = await signed_in_page(browser, panel.base_url, path='/jobs')  # reads no Docker figures
                    await asyncio.sleep(SETTLE_S)
                    print(f'without the dashboard, {seconds:.0f} s…', flush=True)
                    idle = await window(proxy, pid, seconds)
                    print(f'with the dashboard open, {seconds:.0f} s…', flush=True)
                    measuring = asyncio.create_task(window(proxy, pid, seconds))
                    await page.goto('/')
                    open_ = await measuring
                    note = await page.get_by_text('Ranked over the latest figures').inner_text()
                    top_cpu = await page.get_by_role('list', name='Top by CPU').inner_text()
                    await browser.close()
            finally:
                panel.stop()
                proxy.close()
    finally:
        if not keep:
            remove_all(client)
        client.close()
    added = round(open_['requests_per_second'] - idle['requests_per_second'], 3)
    added_by_the_page = round(open_['page_requests_per_second'] - idle['page_requests_per_second'], 3)
    return {
        'containers': containers,
        'running': containers,
        'seconds': seconds,
        'without_dashboard': idle,
        'with_dashboard': open_,
        'added_requests_per_second': added,  # all requests, with minus without: includes the engine's other traffic
        'added_page_requests_per_second': added_by_the_page,  # stats, info, version, df: what the dashboard asks
        'added_panel_cpu_percent': round(open_['panel_cpu_percent'] - idle['panel_cpu_percent'], 2),
        'page_said': note,
        'top_by_cpu_at_the_end': top_cpu.splitlines(),
        'goal': f'the dashboard adds under {GOAL_REQUESTS_PER_SECOND:g} daemon requests per second',
        'goal_met': max(added, added_by_the_page) < GOAL_REQUESTS_PER_SECOND,
    }
