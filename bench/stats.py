"""Live stats: N browsers on one busy container's Stats tab share one daemon stream; the panel's CPU and memory for
them, next to the raw `docker stats` CLI on the same container.

    python bench/stats.py [--measure viewers dashboard] [--viewers 20] [--window 20] [--cpus 0.25]
                          [--containers 500] [--seconds 30] [--prefix zzbench-usage-] [--keep]

viewers: the panel runs with DOCKER_HOST pointing at a counting proxy in front of the Docker socket, which counts the
stats connections (first request line containing '/stats'). A busybox container spins a shell loop (held to --cpus of
a CPU). Measured over --window seconds each, from /proc/<pid>/stat (user + system time) and /proc/<pid>/status
(VmRSS): the panel with no page open; then with --viewers Chromium contexts, each signed in (its own session) on the
container's page with the Stats tab shown; then `docker stats NAME` (streaming, output to /dev/null) alone, while the
browsers are gone and the panel's stream lingers and closes. Also: stats connections opened and open, how many pages
saw their CPU figure change during the window, the WebSocket bytes each page received per second, and whether the
stream closed once every page had left.

dashboard (bench/stats_dashboard.py): N running containers, the panel behind a counting proxy, the daemon requests per
second and the panel's CPU with and without the dashboard open.

Each measurement is a function returning its section of the results (``measure_viewers``, ``measure_dashboard``);
``--measure`` picks the sections to run, and the others already saved are kept. Results go to bench/results/stats.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.async_api import Browser, Page, async_playwright

from bench.common import machine_facts, save_results
from bench.stats_dashboard import measure_dashboard
from tests.support import PROJECT_ROOT
from tests.support.browser import launch_chromium, signed_in_page
from tests.support.busy import busy_container
from tests.support.counting_proxy import CountingProxy
from tests.support.eventually import eventually_sync
from tests.support.panel import Panel

RESULTS = PROJECT_ROOT / 'bench' / 'results' / 'stats.json'
CPU_FIGURE = re.compile(r'^CPU \d+\.\d %$')
TICKS = os.sysconf('SC_CLK_TCK')
LINGER_WAIT_S = 45  # NiceGUI lets a closed page go after 5 s (reconnect timeout), the hub its stream 10 s later


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far (``/proc/<pid>/stat`` fields 14 and 15)."""
    fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def cpu_percent_over(pid: int, seconds: float) -> float:
    """The process's CPU use over the next ``seconds``, in percent of one core."""
    before, started = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    return round(100 * (cpu_seconds(pid) - before) / (time.monotonic() - started), 2)


async def open_stats_tab(browser: Browser, panel: Panel, container: str) -> tuple[Page, list[int]]:
    """A new signed-in session on the container's page with the Stats tab shown and its CPU figure up; and the running
    total of the bytes its WebSocket received (set it to 0 to start counting)."""
    page = await signed_in_page(browser, panel.base_url, password=panel.password)
    received = count_websocket_bytes(page)  # before the container page opens its socket
    await page.goto(f'/containers/{container}')
    await page.get_by_role('tab', name='Stats').click()
    await page.get_by_text(CPU_FIGURE).wait_for(timeout=30_000)
    return page, received


async def cpu_figures(pages: list[Page]) -> list[str]:
    return [await page.get_by_text(CPU_FIGURE).inner_text() for page in pages]


def count_websocket_bytes(page: Page) -> list[int]:
    """A running total of the bytes of the WebSocket frames ``page`` receives from sockets it opens from now on."""
    total = [0]

    def on_socket(socket: Any) -> None:
        socket.on('framereceived', lambda payload: total.__setitem__(0, total[0] + len(payload)))

    page.on('websocket', on_socket)
    return total


async def measure_viewers(browser: Browser, *, viewers: int, window: float, cpus: str) -> dict[str, Any]:
    """``viewers`` browsers on one busy container's Stats tab: daemon stats connections, panel CPU and RSS, and the
    `docker stats` CLI's CPU for the same container."""
    with (
        tempfile.TemporaryDirectory(prefix='berth-stats-bench-') as folder,
        busy_container(f'statsbench-{uuid.uuid4().hex[:8]}', cpus=cpus, label='berth-bench=1') as container,
    ):
        proxy = CountingProxy(Path(folder) / 'docker.sock', only='/stats')
        panel = Panel(env={'DOCKER_HOST': proxy.url}).start(timeout=60)
        try:
            assert panel.process is not None
            pid = panel.process.pid
            idle_rss = rss_mb(pid)
            idle_cpu = await cpu_percent_over(pid, window)

            opened = [await open_stats_tab(browser, panel, container) for _ in range(viewers)]
            pages, received = [page for page, _ in opened], [total for _, total in opened]
            await asyncio.sleep(3)  # the last page's history and first redraws are through
            before = await cpu_figures(pages)
            for total in received:
                total[0] = 0
            viewers_cpu = await cpu_percent_over(pid, window)
            socket_bytes = sorted(total[0] for total in received)
            after = await cpu_figures(pages)
            connected = [await page.evaluate('Boolean(window.socket && window.socket.connected)') for page in pages]
            viewers_rss = rss_mb(pid)
            live_during, opened_during = proxy.live, proxy.opened

            for page in pages:
                await page.context.close()
            left_at = time.monotonic()
            cli = await docker_stats_cli_cpu(container, window)
            eventually_sync(lambda: proxy.live == 0, LINGER_WAIT_S, 'the stats stream to close after the viewers left')
            closed_after = round(time.monotonic() - left_at, 1)
            return {
                'viewers': viewers,
                'window_s': window,
                'container_cpus': cpus,
                'stats_connections_opened': opened_during,
                'stats_connections_open_during_window': live_during,
                'viewers_whose_cpu_figure_changed': sum(map(str.__ne__, before, after)),
                'viewers_connected_at_the_end': sum(connected),
                'panel_cpu_percent_idle': idle_cpu,
                'panel_cpu_percent_with_viewers': viewers_cpu,
                'panel_cpu_percent_added_by_viewers': round(viewers_cpu - idle_cpu, 2),
                'panel_rss_mb_idle': idle_rss,
                'panel_rss_mb_with_viewers': viewers_rss,
                'websocket_bytes_per_s_per_viewer_median': round(socket_bytes[len(socket_bytes) // 2] / window),
                'websocket_bytes_per_s_per_viewer_min_max': [
                    round(socket_bytes[0] / window),
                    round(socket_bytes[-1] / window),
                ],
                'docker_stats_cli_cpu_percent': cli,
                'stream_closed_s_after_viewers_left': closed_after,
                'stats_connections_opened_in_all': proxy.opened,
            }
        except BaseException:
            print(f'panel log (tail):\n{panel.log()[-5000:]}', file=sys.stderr)
            raise
        finally:
            panel.stop()
            proxy.close()


async def docker_stats_cli_cpu(container: str, window: float) -> float:
    """CPU % of `docker stats CONTAINER` (streaming, output thrown away) over ``window`` seconds, after 2 s to start."""
    process = subprocess.Popen(['docker', 'stats', container], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        await asyncio.sleep(2)
        return await cpu_percent_over(process.pid, window)
    finally:
        process.kill()  # it ignores SIGTERM
        process.wait(10)


Measurement = Callable[[Browser, argparse.Namespace], Awaitable[dict[str, Any]]]
MEASUREMENTS: dict[str, Measurement] = {
    'viewers': lambda browser, arguments: measure_viewers(
        browser, viewers=arguments.viewers, window=arguments.window, cpus=arguments.cpus
    ),
    # its own panel (behind a counting proxy) and browser, at --containers running containers
    'dashboard': lambda browser, arguments: measure_dashboard(
        containers=arguments.containers, seconds=arguments.seconds, prefix=arguments.prefix, keep=arguments.keep
    ),
}


async def run(arguments: argparse.Namespace) -> dict[str, Any]:
    """The chosen measurements, each into its own section; sections saved earlier and not measured now are kept."""
    load_before = os.getloadavg()
    result: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        try:
            for name in arguments.measure:
                section = await MEASUREMENTS[name](browser, arguments)
                section['measured_at'] = datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')
                section['machine'] = machine_facts(load_before)
                result[name] = section
        finally:
            await browser.close()
    return result


def print_viewers(section: dict[str, Any]) -> None:
    rows = [
        ('stats connections opened', section['stats_connections_opened'], 'goal: exactly 1'),
        ('pages whose CPU figure changed', section['viewers_whose_cpu_figure_changed'], f'of {section["viewers"]}'),
        ('pages still connected', section['viewers_connected_at_the_end'], f'of {section["viewers"]}'),
        ('panel CPU, no page open', f'{section["panel_cpu_percent_idle"]} %', 'of one core'),
        ('panel CPU, viewers', f'{section["panel_cpu_percent_with_viewers"]} %', 'goal: under 5 %'),
        ('docker stats CLI CPU', f'{section["docker_stats_cli_cpu_percent"]} %', 'one viewer, in a terminal'),
        ('panel RSS', f'{section["panel_rss_mb_idle"]} → {section["panel_rss_mb_with_viewers"]} MB', ''),
        ('WebSocket per viewer', f'{section["websocket_bytes_per_s_per_viewer_median"]:,} B/s', 'median'),
        ('stream closed after leaving', f'{section["stream_closed_s_after_viewers_left"]} s', 'reconnect 5 s + linger'),
    ]
    width = max(len(name) for name, _, _ in rows)
    print(f'\nstats bench: {section["viewers"]} viewers, {section["window_s"]} s windows, {section["machine"]}')
    for name, value, note in rows:
        print(f'  {name:<{width}}  {value!s:>16}  {note}')


def print_dashboard(section: dict[str, Any]) -> None:
    print(f'\ndashboard bench: {section["containers"]} running containers, {section["seconds"]} s windows')
    for name in ('without_dashboard', 'with_dashboard'):
        part = section[name]
        print(
            f'  {name:>18}: {part["requests_per_second"]:.2f} requests/s, panel CPU {part["panel_cpu_percent"]:.1f} %'
        )
    print(
        f'  {"added":>18}: {section["added_requests_per_second"]:.2f} requests/s in all, '
        f'{section["added_page_requests_per_second"]:.2f} of the kinds a page asks for (goal: under 2)'
    )


PRINTERS: dict[str, Callable[[dict[str, Any]], None]] = {'viewers': print_viewers, 'dashboard': print_dashboard}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument('--measure', nargs='+', choices=sorted(MEASUREMENTS), default=sorted(MEASUREMENTS))
    parser.add_argument('--viewers', type=int, default=20)
    parser.add_argument('--window', type=float, default=20.0, help='seconds of each CPU measurement')
    parser.add_argument('--cpus', default='0.25', help="the busy container's CPU limit")
    parser.add_argument('--containers', type=int, default=500, help='running containers for the dashboard')
    parser.add_argument('--seconds', type=float, default=30.0, help='seconds of each dashboard window')
    parser.add_argument('--prefix', default='zzbench-usage-', help="the dashboard's containers: PREFIX0000…")
    parser.add_argument('--keep', action='store_true', help="leave the dashboard's containers running afterwards")
    arguments = parser.parse_args()
    result = asyncio.run(run(arguments))
    for name in arguments.measure:
        PRINTERS[name](result[name])
    save_results(RESULTS, result)


if __name__ == '__main__':
    main()
