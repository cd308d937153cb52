"""How long a change made with the docker CLI takes to reach an open /containers page, at 10/100/500 containers.

    python bench/events.py [--counts 10 100 500] [--samples 30] [--change rename|startstop]
    python bench/events.py --two-hosts [--counts 250] …   # the host's engine and a second one (B, mutual TLS)

With ``--two-hosts`` a second Docker Engine of the bench's own is started (tests/support/engine.py: its own bridge,
data root and socket, TLS on a loopback port); each count is made on both engines, the panel watches both (the
containers page shows every host), samples alternate between the hosts and every figure is also given per endpoint.

Per sample: t0 = wall clock just before the `docker` command; the daemon's event as received by a separate SDK
subscriber (``event``), and the moment a MutationObserver in the page sees the row show the new name or state
(``row``), both minus t0, in milliseconds. ``panel`` = row - event is what Berth itself adds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import nicegui

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.async_api import Page, async_playwright

from tests.support import BUSYBOX, PROJECT_ROOT
from tests.support.browser import CHROMIUM, launch_chromium, signed_in_page
from tests.support.engine import endpoints_setting, started_tls_engine
from tests.support.panel import Panel

LABELS = {'berth-bench': '1', 'berth-bench-kind': 'events'}  # the kind: never touch other benches' containers
LABEL_FILTER = [f'{key}={value}' for key, value in LABELS.items()]
PREFIX = 'zzbench-'  # sorts after everyone else's containers, so other people's first table page is unchanged
B_BRIDGE, B_ADDRESS = 'bthbench0', '172.31.247.1/24'  # the second engine's own bridge (--two-hosts)
OBSERVER = """() => {
  window.benchTarget = null;
  const check = () => {
    const target = window.benchTarget;
    if (!target || target.t !== null) return;
    for (const link of document.querySelectorAll('tbody tr a')) {
      if (link.textContent.trim() !== target.name) continue;
      const badge = link.closest('tr').querySelector('.q-badge');
      if (target.state === null || (badge && badge.textContent.trim() === target.state)) {
        target.t = performance.timeOrigin + performance.now();
        return;
      }
    }
  };
  window.benchCheck = check;
  new MutationObserver(check).observe(document.body,
    {subtree: true, childList: true, characterData: true, attributes: true});
}"""
SOCKET_WATCH = """() => {  // when the first update carrying the changed row arrives over the socket, before Vue renders
  window.socket.on('update', (message) => {
    const target = window.benchTarget;
    if (!target || target.socket !== null) return;
    const now = performance.timeOrigin + performance.now();
    for (const element of Object.values(message)) {
      if ((element?.props?.rows || []).some(row => row.name === target.name &&
                                                   (target.state === null || row.state === target.state))) {
        target.socket = now;
        return;
      }
    }
  });
}"""
SHOWS = """([name, state]) => [...document.querySelectorAll('tbody tr')].length === 1 &&
  [...document.querySelectorAll('tbody tr a')].some(link => link.textContent.trim() === name &&
    (state === null || link.closest('tr').querySelector('.q-badge')?.textContent.trim() === state))"""


class EventRecorder:
    """A separate `docker events` subscriber (SDK) recording when each container event reaches a client."""

    def __init__(self, client: docker.DockerClient, labels: list[str] | None = None) -> None:
        filters = {'type': ['container'], 'label': LABEL_FILTER if labels is None else labels}
        self.stream = client.api.events(decode=True, filters=filters)
        self.events: list[tuple[float, str, str, float]] = []  # (received, id, action, daemon time)
        self.changed = threading.Condition()
        threading.Thread(target=self._run, name='bench-events', daemon=True).start()

    def _run(self) -> None:
        try:
            for event in self.stream:
                received = time.time()
                with self.changed:
                    self.events.append(
                        (
                            received,
                            str(event.get('id', '')),
                            str(event.get('Action', '')),
                            int(event.get('timeNano', 0)) / 1e9,
                        )
                    )
                    self.changed.notify_all()
        except (OSError, ValueError, docker.errors.APIError):  # closing the stream at the end ends it like this
            return

    def wait(self, container_id: str, action: str, after: float, timeout: float = 15.0) -> tuple[float, float]:
        """(received, daemon time) of the first ``action`` event for the container received after ``after``."""
        deadline = time.time() + timeout
        with self.changed:
            while True:
                for received, event_id, event_action, daemon in self.events:
                    if received >= after and event_id == container_id and event_action == action:
                        return received, daemon
                if not self.changed.wait(deadline - time.time()):
                    raise TimeoutError(f'no {action} event for {container_id[:12]}')

    def close(self) -> None:
        self.stream.close()


@dataclass
class Bench:
    client: docker.DockerClient
    change: str
    endpoint: str = 'local'  # the panel's id of the engine
    prefix: str = PREFIX  # distinct per engine, so the filter finds one row when the page shows every host
    cli: tuple[str, ...] = ('docker',)  # the docker CLI aimed at this engine
    names: dict[str, str] = field(default_factory=dict)  # base name -> current name
    running: set[str] = field(default_factory=set)
    ids: dict[str, str] = field(default_factory=dict)

    def ensure(self, count: int) -> None:
        """Makes sure zzbench-0000 ... exist (created in parallel, reused between counts)."""
        wanted = [f'{self.prefix}{index:04d}' for index in range(count)]
        missing = [name for name in wanted if name not in self.names]
        with ThreadPoolExecutor(16) as pool:
            for name, created in zip(missing, pool.map(self._create, missing), strict=True):
                self.names[name], self.ids[name] = name, created

    def _create(self, name: str) -> str:
        answer = self.client.api.create_container(
            BUSYBOX, command=['sleep', '3600'], name=name, labels=LABELS, stop_signal='SIGKILL'
        )
        return str(answer['Id'])

    def command(self, base: str) -> tuple[list[str], str, str | None, str]:
        """The docker command for the next change of ``base``: (argv, expected name, expected state, event)."""
        current = self.names[base]
        if self.change == 'rename':
            new = base if current != base else f'{base}-b'
            return [*self.cli, 'rename', current, new], new, None, 'rename'
        if base in self.running:
            return [*self.cli, 'stop', '-t', '0', current], current, 'exited', 'die'
        return [*self.cli, 'start', current], current, 'running', 'start'

    def applied(self, base: str, name: str, state: str | None) -> None:
        self.names[base] = name
        if state == 'running':
            self.running.add(base)
        else:
            self.running.discard(base)

    def remove_all(self) -> None:
        ids = [container['Id'] for container in self.client.api.containers(all=True, filters={'label': LABEL_FILTER})]
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda container_id: self.client.api.remove_container(container_id, force=True), ids))


async def clock_offset_ms(page: Page) -> float:
    """Page clock minus Python's wall clock (should be ~0: same machine)."""
    before = time.time()
    page_now = await page.evaluate('performance.timeOrigin + performance.now()')
    after = time.time()
    return page_now - (before + after) / 2 * 1000


async def measure(
    hosts: list[tuple[Bench, EventRecorder]],
    count: int,
    *,
    samples: int,
    warmup: int,
    rng: random.Random,
    app: Path,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``samples`` changes (after ``warmup`` more), taking the hosts in turn; ``count`` containers on each."""
    panel = Panel(root=app, env=env).start(timeout=120 * len(hosts), min_containers=count * len(hosts))
    try:
        async with async_playwright() as playwright:
            browser = await launch_chromium(playwright)
            page = await signed_in_page(browser, panel.base_url)
            received: list[tuple[float, int]] = []
            page.on(
                'websocket',
                lambda socket: socket.on('framereceived', lambda payload: received.append((time.time(), len(payload)))),
            )
            await page.reload()  # again, now with the socket's frames counted
            await page.locator('.q-table').first.wait_for()
            await page.evaluate(OBSERVER)
            await page.evaluate(SOCKET_WATCH)
            offset = await clock_offset_ms(page)
            rows: list[dict[str, float]] = []
            endpoints: list[str] = []  # each row's host
            turns = (samples + warmup + len(hosts) - 1) // len(hosts)  # changes per host
            pairs = [rng.sample(sorted(bench.names), k=min(count, (turns + 1) // 2 + 1)) for bench, _ in hosts]
            for index in range(samples + warmup):
                (bench, recorder), mine, turn = (
                    hosts[index % len(hosts)],
                    pairs[index % len(hosts)],
                    index // len(hosts),
                )
                base = mine[turn // 2] if bench.change == 'startstop' else mine[turn % len(mine)]
                argv, name, state, action = bench.command(base)
                await page.get_by_label('Filter containers').fill(base)
                before = 'running' if base in bench.running else None  # None: any state
                await page.wait_for_function(SHOWS, arg=[bench.names[base], before], timeout=15_000)
                await asyncio.sleep(0.25)  # let the filter's own round trip settle
                await page.evaluate(
                    '([name, state]) => { window.benchTarget = {name, state, t: null, socket: null}; '
                    'window.benchCheck(); }',
                    [name, state],
                )
                received.clear()
                t0 = time.time()
                await asyncio.to_thread(subprocess.run, argv, check=True, capture_output=True)
                cli = time.time()
                event, daemon = await asyncio.to_thread(recorder.wait, bench.ids[base], action, t0)
                await page.wait_for_function('window.benchTarget.t !== null', timeout=15_000)
                shown, socket = await page.evaluate('[benchTarget.t, benchTarget.socket ?? benchTarget.t]')
                shown, socket = shown / 1000, socket / 1000
                bench.applied(base, name, state)
                if index >= warmup:
                    endpoints.append(bench.endpoint)
                    frames = [size for at, size in received if at <= shown + 0.05]
                    rows.append(
                        {
                            'cli': (cli - t0) * 1000,
                            'daemon': (daemon - t0) * 1000,
                            'event': (event - t0) * 1000,
                            'row': (shown - t0) * 1000,
                            'panel': (shown - event) * 1000,
                            'server': (socket - event) * 1000,
                            'browser': (shown - socket) * 1000,
                            'ws_bytes': float(sum(frames)),
                            'ws_frames': float(len(frames)),
                        }
                    )
            await browser.close()
    finally:
        panel.stop()
    result: dict[str, Any] = {
        'count': count,
        'clock_offset_ms': round(offset, 3),
        'load_average': os.getloadavg(),
        'summary': {key: summary([row[key] for row in rows]) for key in rows[0]},
        'raw': {key: [round(row[key], 2) for row in rows] for key in rows[0]},
    }
    if len(hosts) > 1:
        result['raw']['endpoint'] = endpoints
        result['endpoints'] = {
            bench.endpoint: {
                key: summary([row[key] for row, at in zip(rows, endpoints, strict=True) if at == bench.endpoint])
                for key in rows[0]
            }
            for bench, _ in hosts
        }
    return result


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def percentile(fraction: float) -> float:  # linear interpolation between closest ranks
        position = (len(ordered) - 1) * fraction
        low = int(position)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

    return {
        'p50': round(percentile(0.5), 2),
        'p99': round(percentile(0.99), 2),
        'mean': round(statistics.fmean(ordered), 2),
        'max': round(ordered[-1], 2),
        'min': round(ordered[0], 2),
    }


def machine(client: docker.DockerClient) -> dict[str, Any]:
    cpu = next(
        (
            line.split(':', 1)[1].strip()
            for line in Path('/proc/cpuinfo').read_text().splitlines()
            if line.startswith('model name')
        ),
        platform.processor(),
    )
    memory = next(
        (line.split()[1] for line in Path('/proc/meminfo').read_text().splitlines() if line.startswith('MemTotal')), '0'
    )
    chromium = subprocess.run([CHROMIUM, '--version'], check=False, capture_output=True, text=True).stdout.strip()

    return {
        'host': platform.node(),
        'platform': platform.platform(),
        'cpu': cpu,
        'cpus': os.cpu_count(),
        'memory_gb': round(int(memory) / 1024 / 1024, 1),
        'docker': client.version().get('Version'),
        'python': platform.python_version(),
        'nicegui': nicegui.__version__,
        'chromium': chromium,
    }


def print_table(results: list[dict[str, Any]]) -> None:
    print(
        f'\n{"containers":>10} {"host":>6} {"metric":>8} {"p50":>8} {"p99":>8} {"mean":>8} {"max":>8}   (ms after t0)'
    )
    for result in results:
        groups = [('all', result['summary']), *result.get('endpoints', {}).items()]
        for host, figures in groups:
            for key in ('cli', 'event', 'row', 'panel', 'server', 'browser'):
                numbers = figures[key]
                print(
                    f'{result["count"]:>10} {host:>6} {key:>8} '
                    + ' '.join(f'{numbers[part]:>8.1f}' for part in ('p50', 'p99', 'mean', 'max'))
                )
        print(f'{"":>10} {"":>6} {"ws KB":>8} {result["summary"]["ws_bytes"]["p50"] / 1024:>8.1f}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--counts', type=int, nargs='+', default=[10, 100, 500])
    parser.add_argument('--samples', type=int, default=30)
    parser.add_argument('--warmup', type=int, default=4)
    parser.add_argument('--change', choices=['rename', 'startstop'], default='rename')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument(
        '--two-hosts', action='store_true', help='also a second engine of its own (B): COUNTS containers on each'
    )
    parser.add_argument('--bridge', default=B_BRIDGE, help="B's own bridge (--two-hosts)")
    parser.add_argument('--address', default=B_ADDRESS, help="the address on B's bridge (--two-hosts)")
    parser.add_argument('--app', type=Path, default=PROJECT_ROOT, help='the checkout of Berth to run (A/B runs)')
    parser.add_argument('--output', type=Path, default=PROJECT_ROOT / 'bench' / 'results' / 'events.json')
    arguments = parser.parse_args()
    client = docker.DockerClient(base_url='unix:///var/run/docker.sock', timeout=120)
    with contextlib.ExitStack() as stack:
        hosts = [(Bench(client, arguments.change), EventRecorder(client))]
        env: dict[str, str] = {}
        if arguments.two_hosts:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix='berth-bench-engine-')))
            engine, url, tls = stack.enter_context(
                started_tls_engine(folder, arguments.bridge, address=arguments.address)
            )
            client_b = docker.DockerClient(base_url=engine.url, timeout=120)
            bench_b = Bench(
                client_b, arguments.change, endpoint='b', prefix=f'{PREFIX}b-', cli=('docker', '-H', engine.url)
            )
            hosts.append((bench_b, EventRecorder(client_b)))
            env['BERTH_ENDPOINTS'] = endpoints_setting('b', 'B', url, tls)  # over mutual TLS, as a remote host
        results = run_counts(hosts, arguments, env)
    report = {
        'bench': 'events',
        'date': datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds'),
        'machine': machine(client),
        'change': arguments.change,
        'counts': sorted(arguments.counts),
        'endpoints': [bench.endpoint for bench, _ in hosts],
        'app': str(arguments.app),
        'samples': arguments.samples,
        'warmup': arguments.warmup,
        'goal': 'row p99 < 100 ms at 500 containers',
        'results': results,
    }
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(report, indent=2) + '\n')
    print_table(results)
    print(f'\nsaved {arguments.output}')


def run_counts(
    hosts: list[tuple[Bench, EventRecorder]], arguments: argparse.Namespace, env: dict[str, str]
) -> list[dict[str, Any]]:
    rng = random.Random(arguments.seed)
    results = []
    try:
        for bench, _ in hosts:
            bench.remove_all()  # leftovers of an interrupted run
        for count in sorted(arguments.counts):
            started = time.time()
            for bench, _ in hosts:
                bench.ensure(count)
            print(f'{count} containers per host ready in {time.time() - started:.1f} s; measuring', flush=True)
            results.append(
                asyncio.run(
                    measure(
                        hosts,
                        count,
                        samples=arguments.samples,
                        warmup=arguments.warmup,
                        rng=rng,
                        app=arguments.app,
                        env=env,
                    )
                )
            )
            print_table(results[-1:])
    finally:
        for bench, recorder in hosts:
            recorder.close()
            bench.remove_all()
    return results


if __name__ == '__main__':
    main()
