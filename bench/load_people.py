"""The load part of bench/load.py: people on /containers while containers change, event → browser in real browsers.

``--clients`` Socket.IO clients (bench/page_clients.py, each its own viewer account and session) and ``--browsers``
headless Chromium browsers (each its own process, signed in as admin) are on /containers with "zzbld-" typed into the
filter, at ``--containers`` containers; the first ``--changing`` of them run and are paused and unpaused with the
`docker` CLI, ``--rate`` changes a second for ``--seconds``. A MutationObserver in every browser notes when each row's
state badge shows a new state (``performance.timeOrigin + now()``, this machine's wall clock). Per change and browser,
``event_to_browser_ms`` is that moment minus the daemon's own timestamp of the event (``timeNano``); for the raw docker
figures, ``daemon_to_subscriber_ms`` is when a separate `docker events` subscriber in the bench got it and ``cli_ms``
how long the `docker pause` / `unpause` command took. The panel's CPU (% of one core) and RSS are sampled over the
window.
"""

from __future__ import annotations

import asyncio
from typing import Any

import docker
from playwright.async_api import Page, async_playwright

from bench.common import latency_summary
from bench.events import EventRecorder
from bench.load_fleet import LABEL_FILTER, Fleet, make_accounts
from bench.page_clients import ClientProcess, people_process
from bench.panel_process import Holdings, UsageSampler, probe_environment, reset_probe
from tests.support.browser import launch_chromium, signed_in_page
from tests.support.panel import Panel

STATES = ['running', 'paused', 'exited', 'created', 'restarting', 'dead', 'removing']
OBSERVER = """(states) => {
  window.benchSeen = [];
  const last = new Map();
  const check = () => {
    const t = performance.timeOrigin + performance.now();
    for (const row of document.querySelectorAll('tbody tr')) {
      const link = row.querySelector('a');
      const badge = [...row.querySelectorAll('.q-badge')].find((b) => states.includes(b.textContent.trim()));
      if (!link || !badge) continue;
      const name = link.textContent.trim(), state = badge.textContent.trim();
      if (last.get(name) !== state) { last.set(name, state); window.benchSeen.push([name, state, t]); }
    }
  };
  check();
  new MutationObserver(check).observe(document.body,
    {subtree: true, childList: true, characterData: true, attributes: true});
}"""
SHOWN_STATE = {'pause': 'paused', 'unpause': 'running'}


async def measure_load(client: docker.DockerClient, fleet: Fleet, arguments: Any) -> dict[str, Any]:
    probe = probe_environment(arguments.loop_probe, 'load')
    panel = Panel(env=probe, root=arguments.panel_root).start(timeout=180, min_containers=fleet.count)
    recorder = EventRecorder(client, LABEL_FILTER)
    people: ClientProcess | None = None
    try:
        pid = panel.process.pid if panel.process else 0
        idle = Holdings.of(pid)
        accounts = await asyncio.to_thread(make_accounts, panel.data_dir, 'bldview', arguments.clients, 'viewer')
        people = ClientProcess(people_process, panel.base_url, accounts, fleet.filter_text)
        print(f'  {arguments.clients} Socket.IO clients signing in', flush=True)
        await people.start(timeout=60 + arguments.clients * 2)
        async with async_playwright() as playwright:
            browsers = [await launch_chromium(playwright) for _ in range(arguments.browsers)]
            try:
                pages = [await watching_page(browser, panel.base_url, fleet) for browser in browsers]
                with_people = Holdings.of(pid)
                print(f'  {arguments.rate} changes/s for {arguments.seconds} s', flush=True)
                reset_probe(probe)
                usage = UsageSampler(pid).start()
                changes = await asyncio.to_thread(fleet.drive, arguments.rate, arguments.seconds)
                await asyncio.sleep(2)  # the last changes reach the pages
                window = usage.stop()
                seen = [await page.evaluate('window.benchSeen') for page in pages]
            finally:
                for browser in browsers:
                    await browser.close()
        clients = await people.stop()
        people = None
    except Exception:
        print(f'panel log (tail):\n{panel.log()[-5000:]}')
        raise
    finally:
        if people is not None:
            await people.stop()
        recorder.close()
        panel.stop()
        await asyncio.to_thread(fleet.unpause_all)
    return {
        'settings': {
            'containers': fleet.count,
            'changing': fleet.changing,
            'changes_per_second': arguments.rate,
            'seconds': arguments.seconds,
            'socket_io_clients': arguments.clients,
            'browsers': arguments.browsers,
        },
        **latencies(fleet, changes, recorder, seen),
        'event_to_socket_io_client_ms': latencies(fleet, changes, recorder, clients.get('seen') or [])[
            'event_to_browser_ms'
        ],
        'panel': {'idle': idle.as_dict(), 'with_people': with_people.as_dict(), 'during_changes': window},
        'socket_io_clients': {key: value for key, value in clients.items() if key not in ('open_ms', 'seen')},
        'goals': {'event_to_browser_p99_ms_below': 150, 'rss_mb_below': 300},
    }


async def watching_page(browser: Any, base_url: str, fleet: Fleet) -> Page:
    """A signed-in admin's /containers with the filter typed in and the observer installed."""
    page = await signed_in_page(browser, base_url)
    await page.get_by_label('Filter containers').fill(fleet.filter_text)
    first = fleet.names[0]
    await page.wait_for_function(
        '(name) => [...document.querySelectorAll("tbody tr a")].some((a) => a.textContent.trim() === name)', arg=first
    )
    await page.evaluate(OBSERVER, STATES)
    return page


def latencies(
    fleet: Fleet, changes: list[dict[str, Any]], recorder: EventRecorder, seen: list[list[list[Any]]]
) -> dict[str, Any]:
    """Matches each change's event with the first moment each browser showed its new state."""
    ids = {name: str(fleet.client.api.inspect_container(name)['Id']) for name in fleet.names[: fleet.changing]}
    names = {container_id: name for name, container_id in ids.items()}
    to_browser, to_subscriber, missed = [], [], 0
    for received, container_id, action, daemon in recorder.events:
        if action not in SHOWN_STATE or container_id not in names:
            continue
        to_subscriber.append((received - daemon) * 1000)
        for shown in seen:
            moment = next(
                (
                    at / 1000
                    for name, state, at in shown
                    if name == names[container_id] and state == SHOWN_STATE[action] and at / 1000 >= daemon - 0.005
                ),
                None,
            )
            if moment is None:
                missed += 1
            else:
                to_browser.append((moment - daemon) * 1000)
    return {
        'changes_made': len(changes),
        'events': len(to_subscriber),
        'event_to_browser_ms': latency_summary(to_browser),
        'changes_a_browser_never_showed': missed,
        'daemon_to_subscriber_ms': latency_summary(to_subscriber),
        'cli_ms': latency_summary([float(change['cli_ms']) for change in changes]),
    }


def print_load(result: dict[str, Any]) -> None:
    settings, panel = result['settings'], result['panel']
    browser, subscriber, cli = result['event_to_browser_ms'], result['daemon_to_subscriber_ms'], result['cli_ms']
    print(
        f'\nload: {settings["containers"]} containers, {settings["changes_per_second"]} changes/s for '
        f'{settings["seconds"]} s, {settings["socket_io_clients"]} Socket.IO clients + {settings["browsers"]} browsers'
    )
    print(f'  event → browser (ms)        p50 {browser.get("p50_ms")}  p99 {browser.get("p99_ms")}  n {browser["n"]}')
    sockets = result['event_to_socket_io_client_ms']
    print(f'  event → Socket.IO client (ms) p50 {sockets.get("p50_ms")}  p99 {sockets.get("p99_ms")}  n {sockets["n"]}')
    print(f'  event → docker events (ms)  p50 {subscriber.get("p50_ms")}  p99 {subscriber.get("p99_ms")}')
    print(f'  docker pause/unpause (ms)   p50 {cli.get("p50_ms")}  p99 {cli.get("p99_ms")}')
    print(f'  changes no browser showed   {result["changes_a_browser_never_showed"]}')
    window = panel['during_changes']
    print(
        f'  panel: CPU {window["cpu_percent_of_one_core"]} % of a core, RSS {panel["idle"]["rss_mb"]} MB idle, '
        f'{panel["with_people"]["rss_mb"]} MB with the people, peak {window["rss_mb_peak"]} MB'
    )
    clients = result['socket_io_clients']
    print(
        f'  Socket.IO clients: {clients["updates_while_measured"]} updates received, '
        f'{clients["disconnects"]} dropped, {clients["failures"]} failures {clients["errors"]}'
    )
