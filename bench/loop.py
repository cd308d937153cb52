"""The panel's event loop under sign-ins and a burst of jobs: /healthz and terminal keystroke echo, p50/p99/max.

    python bench/loop.py [--database sqlite|postgres|both] [--label before] [--root DIR] [--output PATH]
                         [--clients 20] [--think 1.0] [--jobs 200] [--job-containers 8] [--action restart|start]

Per database a fresh panel (`bench.common.Panel`: embedded broker, local admin; PostgreSQL in
``postgresql://berth:berth@localhost:5432/berth_loopbench``, its schema dropped and made again first), with
``--clients`` viewer accounts made on /admin/users, ``--job-containers`` busybox sleepers for the jobs and one for the
terminal. Four phases, one after the other:

- ``idle``: nothing but the probes.
- ``jobs``: a burst of ``--jobs`` restarts, dispatched from an admin's /containers page ("Restart selected" clicked
  ``--jobs / --job-containers`` times at once, with the sleepers selected), until every one has finished.
- ``sign_ins``: ``--clients`` clients sign in, land on /containers, stay ``--think`` s, sign out, over and over.
- ``both``: the sign-ins and, once they run, another such burst, until it has finished.

The probes, during every phase: ``healthz``, a GET /healthz every ~20 ms from a thread of this process (new
connection each time); ``echo``, keystroke-to-echo in the terminal of an admin's page in headless Chromium, one
character at a time into `cat` (timed in the page, see ``bench.common.echo_latencies``); ``raw_echo``, for context,
one byte through `docker exec -i SLEEPER cat` and back every 50 ms (the engine's own round trip, no panel).

A loop blocked for more than ~2 s makes the panel drop every socket (NiceGUI pings every 4 s with a 2 s timeout):
clicks sent meanwhile are lost and a terminal's shell ends. The bench then acts as a person would: clicks again when
the number of jobs stands still (``clicks_resent``; reloading the page if that did not help either), and opens the
terminal again after two keystrokes in a row were not echoed within 5 s (``terminal_lost``; those count as 5 s).
``admin_page_reloads`` counts the reloads of the bench's two admin pages, by themselves or by the bench.

The sign-in clients are not browsers (20 Chromium tabs would take both CPUs and measure the machine, not the loop):
one process of this bench runs ``--clients`` Socket.IO clients (python-socketio over aiohttp, each its own cookie
jar) that walk the very path a browser takes. GET /login builds the page; its socket connects (origin and session
checks, NiceGUI's handshake); the username and password go in as the inputs' ``update:value`` events and the button's
``click`` event, as the page's JavaScript sends them; the panel checks the password and answers with ``open
/auth/complete?token=…``; GET of that starts the session (cookie, audit entry) and redirects to /containers, whose page
is built and whose socket connects and stays for ``--think`` s (it gets the live table's updates); GET /logout ends
it (audit entry, session rotated). ``sign_in_ms`` is click → ``open`` received: the panel's answer to a sign-in.

Results go to bench/results/loop.json under ``--label`` and the database (other labels and databases are kept).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import datetime
import html
import json
import logging
import multiprocessing
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import psycopg
import socketio
from playwright.async_api import Browser, Frame, Page, async_playwright
from playwright.async_api import Error as PlaywrightError

from bench.common import (
    ECHO_TIMEOUT_MS,
    echo_latencies,
    latency_summary,
    machine_facts,
    open_terminal,
    save_results,
    start_sleeper,
)
from tests.support import PROJECT_ROOT
from tests.support.browser import launch_chromium, signed_in_page
from tests.support.panel import Panel

RESULTS = PROJECT_ROOT / 'bench' / 'results' / 'loop.json'
POSTGRES_URL = 'postgresql://berth:berth@localhost:5432/berth_loopbench'
HEALTHZ_EVERY = 0.02
RAW_ECHO_EVERY = 0.05
SETTLE_SECONDS = 6.0  # between phases: closed sign-in pages are deleted 5 s after their socket went (reconnect_timeout)
PHASES = ('idle', 'sign_ins', 'jobs', 'both')
MIN_BURST_WINDOW = 10.0
QUERY = re.compile(r'query: (\{.*?\}),\n')
ELEMENTS = re.compile(r'parseElements\(String\.raw`(.*?)`\)', re.DOTALL)
SOCKET_PATH = '/_nicegui_ws/socket.io'


# ---- the sign-in clients (a process of their own) ----


@dataclass
class WirePage:
    """A NiceGUI page as its HTML describes it: the client id for the socket, and the elements with their listeners."""

    query: dict[str, Any]
    elements: dict[str, dict[str, Any]]

    @classmethod
    def parse(cls, text: str) -> WirePage:
        query, elements = QUERY.search(text), ELEMENTS.search(text)
        if query is None or elements is None:
            raise RuntimeError(f'not a NiceGUI page: {text[:200]!r}')
        # the template escapes & < > ` $ as HTML entities inside the raw string; html.unescape undoes exactly that
        return cls(query=ast.literal_eval(query.group(1)), elements=json.loads(html.unescape(elements.group(1))))

    def socket_url(self, base_url: str) -> str:
        query = {
            'client_id': self.query['client_id'],
            'next_message_id': self.query['next_message_id'],
            'implicit_handshake': 'true',
            'document_id': str(uuid.uuid4()),
            'tab_id': str(uuid.uuid4()),
        }
        return f'{base_url}?{"&".join(f"{key}={value}" for key, value in query.items())}'

    def event(self, tag: str, label: str, kind: str, value: Any = None) -> dict[str, Any]:
        """The `event` message the page's JavaScript would send for ``kind`` on the element with that tag and label
        (or accessible name)."""
        for element_id, element in self.elements.items():
            props = element.get('props', {})
            if element['tag'] == tag and label in (props.get('label'), props.get('aria-label')):
                listener = next(item for item in element.get('events', []) if item['type'] == kind)
                return {
                    'id': int(element_id),
                    'client_id': self.query['client_id'],
                    'listener_id': listener['listener_id'],
                    'args': [] if value is None else [json.dumps(value)],
                }
        raise RuntimeError(f'no {tag} labelled {label!r} on the page')


@dataclass
class SignInStats:
    sign_ins: int = 0
    failures: int = 0
    errors: list[str] = field(default_factory=list)
    sign_in_ms: list[float] = field(default_factory=list)


class SignInClient:
    """One person signing in, landing on /containers, staying a moment and signing out, over and over."""

    def __init__(self, base_url: str, username: str, password: str, think: float, stats: SignInStats) -> None:
        self.base_url, self.username, self.password = base_url, username, password
        self.think, self.stats = think, stats

    async def run(self) -> None:
        jar = aiohttp.CookieJar(unsafe=True)  # unsafe: keep cookies for an IP address (127.0.0.1)
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(cookie_jar=jar, timeout=timeout) as http:
            signed_in = False
            while True:
                try:
                    if signed_in:
                        async with http.get(f'{self.base_url}/logout', allow_redirects=False) as response:
                            await response.read()
                        signed_in = False
                    await self.sign_in(http)
                    signed_in = True
                    self.stats.sign_ins += 1
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    self.stats.failures += 1
                    if len(self.stats.errors) < 5:
                        self.stats.errors.append(f'{self.username}: {type(error).__name__}: {error}')
                    await asyncio.sleep(1)

    async def sign_in(self, http: aiohttp.ClientSession) -> None:
        async with http.get(f'{self.base_url}/login', params={'redirect_to': '/containers'}) as response:
            login = WirePage.parse(await response.text())
        opened: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def on_open(data: dict[str, Any]) -> None:
            if not opened.done():
                opened.set_result(str(data['path']))

        async with self.socket(http, login, {'open': on_open}) as sio:
            await sio.emit('event', login.event('nicegui-input', 'Username', 'update:value', self.username))
            await sio.emit('event', login.event('nicegui-input', 'Password', 'update:value', self.password))
            clicked = time.perf_counter()
            await sio.emit('event', login.event('q-btn', 'Sign in', 'click'))
            path = await asyncio.wait_for(opened, 30)
            self.stats.sign_in_ms.append((time.perf_counter() - clicked) * 1000)
        if not path.startswith('/auth/complete'):
            raise RuntimeError(f'the sign-in page sent the browser to {path}')
        async with http.get(f'{self.base_url}{path}') as response:  # → 303 → /containers
            if not response.url.path.startswith('/containers'):
                raise RuntimeError(f'signing in landed on {response.url.path}')
            landing = WirePage.parse(await response.text())
        await self.stay(http, landing)

    async def stay(self, http: aiohttp.ClientSession, landing: WirePage) -> None:
        """On the page signing in landed on, its socket connected, for ``think`` seconds."""
        async with self.socket(http, landing, {}):
            await asyncio.sleep(self.think)

    @contextlib.asynccontextmanager
    async def socket(
        self, http: aiohttp.ClientSession, page: WirePage, handlers: dict[str, Callable[..., None]]
    ) -> AsyncIterator[socketio.AsyncClient]:
        sio = socketio.AsyncClient(http_session=http, reconnection=False)
        for name, handler in handlers.items():
            sio.on(name, handler)
        await sio.connect(
            page.socket_url(self.base_url), socketio_path=SOCKET_PATH, transports=['websocket'], wait_timeout=30
        )
        try:
            yield sio
        finally:
            await sio.disconnect()


def sign_in_process(
    base_url: str,
    accounts: list[tuple[str, str]],
    think: float,
    ready: ProcessEvent,
    stop: ProcessEvent,
    results: multiprocessing.Queue[dict[str, Any]],
) -> None:
    """Runs one SignInClient per account until ``stop`` is set; puts the counts into ``results``."""

    async def main() -> dict[str, Any]:
        # clients cancelled in the middle of a request leave aiohttp notes about unclosed connections: not news
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: None)
        for name in ('engineio.client', 'socketio.client'):  # "packet queue is empty": a socket the panel dropped
            logging.getLogger(name).setLevel(logging.CRITICAL)
        stats = SignInStats()
        tasks = [
            asyncio.create_task(SignInClient(base_url, name, password, think, stats).run())
            for name, password in accounts
        ]
        ready.set()
        started = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        seconds = time.monotonic() - started
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return {
            'seconds': seconds,
            'sign_ins': stats.sign_ins,
            'failures': stats.failures,
            'errors': stats.errors,
            'sign_in_ms': stats.sign_in_ms,
        }

    results.put(asyncio.run(main()))


class SignInLoad:
    """The sign-in clients in a child process, so that their CPU is not this process's (the probes live here)."""

    def __init__(self, base_url: str, accounts: list[tuple[str, str]], think: float) -> None:
        context = multiprocessing.get_context('spawn')
        self.ready, self.stop_event = context.Event(), context.Event()
        self.results: multiprocessing.Queue[dict[str, Any]] = context.Queue()
        self.process = context.Process(
            target=sign_in_process,
            args=(base_url, accounts, think, self.ready, self.stop_event, self.results),
            daemon=True,
        )

    async def start(self) -> None:
        self.process.start()
        if not await asyncio.to_thread(self.ready.wait, 60):
            raise RuntimeError('the sign-in clients did not start')

    async def stop(self) -> dict[str, Any]:
        self.stop_event.set()
        try:
            return await asyncio.to_thread(self.results.get, True, 60)
        finally:
            await asyncio.to_thread(self.process.join, 10)
            if self.process.is_alive():
                self.process.kill()


# ---- the probes ----


class Sampler(threading.Thread):
    """Calls ``probe`` every ``every`` seconds until stopped; keeps (monotonic start, ms) of each call."""

    def __init__(self, probe: Callable[[], None], every: float) -> None:
        super().__init__(daemon=True)
        self.probe, self.every = probe, every
        self.samples: list[tuple[float, float]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        next_at = time.monotonic()
        while not self.stopped.is_set():
            started = time.monotonic()
            try:
                self.probe()
                self.samples.append((started, (time.monotonic() - started) * 1000))
            except Exception:  # a failed probe is as bad as the slowest one: count its time
                self.samples.append((started, (time.monotonic() - started) * 1000))
            next_at = max(next_at + self.every, time.monotonic())
            self.stopped.wait(next_at - time.monotonic())

    def between(self, start: float, end: float) -> list[float]:
        return [ms for at, ms in self.samples if start <= at < end]

    def stop(self) -> None:
        self.stopped.set()
        self.join(35)


def healthz_probe(base_url: str) -> Callable[[], None]:
    def probe() -> None:
        with urllib.request.urlopen(f'{base_url}/healthz', timeout=30) as response:
            response.read()

    return probe


class RawEcho:
    """`docker exec -i CONTAINER cat`: one byte in, the same byte back."""

    def __init__(self, container: str) -> None:
        self.process = subprocess.Popen(
            ['docker', 'exec', '-i', container, 'cat'], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0
        )

    def probe(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(b'x')
        if os.read(self.process.stdout.fileno(), 1) != b'x':
            raise RuntimeError('docker exec cat did not echo')

    def close(self) -> None:
        self.process.kill()
        self.process.wait(10)


# ---- the panel side: accounts, the job burst, the database ----


async def create_accounts(browser: Browser, base_url: str, count: int, prefix: str) -> list[tuple[str, str]]:
    """``count`` viewer accounts made on /admin/users, as an admin would; their one-time passwords."""
    page = await signed_in_page(browser, base_url, path='/admin/users')
    accounts = []
    try:
        for index in range(count):
            name = f'{prefix}{index:02d}'
            await page.get_by_label('New username').fill(name)
            await page.get_by_role('button', name='Create user').click()
            status = page.get_by_role('status').filter(has_text=f'Password for {name} ')
            await status.wait_for(timeout=30_000)
            accounts.append((name, (await status.inner_text()).rsplit(': ', 1)[1].strip()))
    finally:
        await page.context.close()
    return accounts


async def select_for_jobs(page: Page, filter_text: str, count: int) -> None:
    """Shows the ``count`` containers matching ``filter_text`` on the admin's /containers page and selects them."""
    if await page.get_by_text(f'{count} records selected').is_visible():
        return
    if not page.url.endswith('/containers'):
        await page.goto('/containers')
    await page.get_by_label('Filter containers').fill(filter_text)
    rows = page.locator('tbody tr').filter(has_text=filter_text)
    await page.wait_for_function(
        '([text, count]) => [...document.querySelectorAll("tbody tr")].filter((row) => '
        'row.textContent.includes(text)).length === count',
        arg=[filter_text, count],
        timeout=60_000,
    )
    for index in range(count):
        await rows.nth(index).locator('.q-checkbox').click()
    await page.get_by_text(f'{count} records selected').wait_for(timeout=30_000)


async def dispatch_burst(page: Page, action: str, clicks: int) -> None:
    """Clicks "Restart selected" (or another bulk action) ``clicks`` times in one go: each click queues one job per
    selected container."""
    await page.evaluate(
        '([label, clicks]) => { const button = document.querySelector(`button[aria-label="${label}"]`);'
        ' for (let i = 0; i < clicks; i++) button.click(); }',
        [f'{action.capitalize()} selected', clicks],
    )


class JobCounter:
    """The ``action`` jobs the panel's database holds, and how many of them have finished (read by the bench)."""

    def __init__(self, panel: Panel, database: str, action: str) -> None:
        self.panel, self.database, self.kind = panel, database, f'container.{action}'

    def count(self) -> tuple[int, int]:
        sql = (
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status IN ('succeeded', 'failed') THEN 1 ELSE 0 END), 0) "
            'FROM jobs WHERE kind = ?'
        )
        if self.database == 'postgres':
            with psycopg.connect(POSTGRES_URL, connect_timeout=10) as connection:
                row = connection.execute(sql.replace('?', '%s'), (self.kind,)).fetchone()
        else:
            with contextlib.closing(sqlite3.connect(self.panel.data_dir / 'berth.sqlite3', timeout=10)) as connection:
                row = connection.execute(sql, (self.kind,)).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])


def reset_postgres() -> None:
    """An empty schema in berth_loopbench, so the panel makes its tables afresh."""
    try:
        connection = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as error:
        raise SystemExit(
            f'cannot reach {POSTGRES_URL}: {error}\n'
            "make the database with: su postgres -c 'createdb -O berth berth_loopbench'"
        ) from None
    with connection:
        connection.execute('DROP SCHEMA IF EXISTS public CASCADE')
        connection.execute('CREATE SCHEMA public')


# ---- one run ----


@dataclass
class Window:
    start: float
    end: float
    echoes: list[float]
    terminal_lost: int  # times the terminal page failed under the bench (reloaded: its socket had been dropped)
    reloads: int  # reloads of the bench's two admin pages (terminal, job page) during the window


@dataclass
class Probes:
    terminal: Page
    healthz: Sampler
    raw_echo: Sampler
    reloads: list[int] = field(default_factory=lambda: [0])  # main-frame navigations of the admin pages

    def watch_reloads(self, page: Page) -> None:
        def navigated(frame: Frame) -> None:
            if frame == page.main_frame:
                self.reloads[0] += 1

        page.on('framenavigated', navigated)

    async def measure(self, stop_when: Callable[[], bool]) -> Window:
        """Keystroke echo in the terminal until ``stop_when()``. A terminal that stopped answering (two keystrokes in
        a row not echoed: its socket was dropped and its shell is gone) or whose page reloaded is opened again, as a
        person would press F5; ``terminal_lost`` counts those."""
        start, reloads, echoes, lost, mark = time.monotonic(), self.reloads[0], list[float](), 0, 0

        def stuck() -> bool:
            return len(echoes) - mark >= 2 and echoes[-1] == echoes[-2] == ECHO_TIMEOUT_MS

        while not stop_when():
            try:
                await echo_latencies(
                    self.terminal,
                    1_000_000,
                    stop_when=lambda: stop_when() or stuck(),
                    missing_ok=True,
                    latencies=echoes,
                )
                if not stuck():
                    continue
            except PlaywrightError:
                pass
            lost += 1
            await self.reopen_terminal()
            mark = len(echoes)
        return Window(start, time.monotonic(), echoes, lost, self.reloads[0] - reloads)

    async def reopen_terminal(self) -> None:
        prompt = self.terminal.locator('.xterm-rows').get_by_text('/ #').first
        for attempt in range(3):
            try:
                await self.terminal.goto(self.terminal.url)
                await prompt.wait_for(timeout=60_000)
                return
            except PlaywrightError:
                if attempt == 2:
                    raise

    def figures(self, window: Window) -> dict[str, Any]:
        return {
            'seconds': round(window.end - window.start, 1),
            'healthz': latency_summary(self.healthz.between(window.start, window.end)),
            'echo': latency_summary(window.echoes),
            'raw_echo': latency_summary(self.raw_echo.between(window.start, window.end)),
            'admin_page_reloads': window.reloads,
            'terminal_lost': window.terminal_lost,
        }


async def burst(
    probes: Probes, page: Page, job_prefix: str, counter: JobCounter, arguments: argparse.Namespace
) -> dict[str, Any]:
    """Dispatches ``--jobs`` jobs and measures until all of them (and those before) have finished.

    Clicks that never reached the panel (sent while its socket to the page was down) are clicked again once the
    count of jobs has stood still for a few seconds; ``clicks_resent`` says how many."""
    await select_for_jobs(page, job_prefix, arguments.job_containers)  # again if the page had to reload
    before, _ = await asyncio.to_thread(counter.count)
    expected = before + arguments.jobs
    state = {'total': before, 'finished': before, 'done_at': 0.0, 'changed_at': time.monotonic(), 'resent': 0}
    deadline = time.monotonic() + arguments.max_burst_seconds

    async def watch() -> None:
        while not state['done_at']:
            await asyncio.sleep(0.25)
            total, state['finished'] = await asyncio.to_thread(counter.count)
            if total != state['total']:
                state['total'], state['changed_at'] = total, time.monotonic()
            if state['finished'] >= expected:
                state['done_at'] = time.monotonic()
            elif total < expected and time.monotonic() - state['changed_at'] > 5:
                clicks = int(expected - total) // arguments.job_containers
                with contextlib.suppress(PlaywrightError):
                    if state['resent']:  # clicking again did not help either: the page, as a person would, reloads
                        await page.reload()
                    await select_for_jobs(page, job_prefix, arguments.job_containers)
                    await dispatch_burst(page, arguments.action, clicks)
                    state['resent'] += clicks
                state['changed_at'] = time.monotonic()

    watcher = asyncio.create_task(watch())
    dispatched = time.monotonic()
    shortest = dispatched + MIN_BURST_WINDOW  # a burst over in a second still gets some probes
    await dispatch_burst(page, arguments.action, arguments.jobs // arguments.job_containers)
    try:
        window = await probes.measure(
            lambda: (bool(state['done_at']) and time.monotonic() > shortest) or time.monotonic() > deadline
        )
    finally:
        watcher.cancel()
    figures = probes.figures(window)
    figures['jobs'] = {
        'dispatched': int(state['total'] - before),
        'finished': int(state['finished'] - before),
        'seconds': round((state['done_at'] or time.monotonic()) - dispatched, 1),
        'clicks_resent': int(state['resent']),
    }
    return figures


def sign_in_figures(counts: dict[str, Any]) -> dict[str, Any]:
    return {
        'clients_signed_in': counts['sign_ins'],
        'per_second': round(counts['sign_ins'] / counts['seconds'], 2) if counts['seconds'] else 0.0,
        'failures': counts['failures'],
        'errors': counts['errors'],
        'sign_in_ms': latency_summary(counts['sign_in_ms']),
    }


async def run_database(database: str, arguments: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()
    run_id = uuid.uuid4().hex[:6]
    terminal_container = f'loopbench-term-{run_id}'
    job_prefix = f'loopbench-job-{run_id}-'
    containers = [terminal_container] + [f'{job_prefix}{index}' for index in range(arguments.job_containers)]
    env = {}
    if database == 'postgres':
        reset_postgres()
        env['BERTH_DATABASE_URL'] = POSTGRES_URL
    phases: dict[str, Any] = {}
    panel_errors: dict[str, int] = {}
    raw_echo: RawEcho | None = None
    samplers: list[Sampler] = []
    try:
        for name in containers:
            start_sleeper(name)
        with Panel(root=Path(arguments.root), env=env) as panel:
            panel.wait_healthy(30, min_containers=len(containers))
            counter = JobCounter(panel, database, arguments.action)
            async with async_playwright() as playwright:
                browser = await launch_chromium(playwright)
                try:
                    accounts = await create_accounts(browser, panel.base_url, arguments.clients, f'loop{run_id}-')
                    jobs = await signed_in_page(browser, panel.base_url)
                    await select_for_jobs(jobs, job_prefix, arguments.job_containers)
                    terminal = await open_terminal(browser, panel.base_url, terminal_container)
                    raw_echo = RawEcho(terminal_container)
                    samplers = [
                        Sampler(healthz_probe(panel.base_url), HEALTHZ_EVERY),
                        Sampler(raw_echo.probe, RAW_ECHO_EVERY),
                    ]
                    for sampler in samplers:
                        sampler.start()
                    probes = Probes(terminal=terminal, healthz=samplers[0], raw_echo=samplers[1])
                    probes.watch_reloads(jobs)
                    probes.watch_reloads(terminal)
                    await asyncio.sleep(2)

                    print(f'[{database}] idle', flush=True)
                    until = time.monotonic() + arguments.idle_seconds
                    phases['idle'] = probes.figures(await probes.measure(lambda: time.monotonic() > until))

                    print(f'[{database}] burst of {arguments.jobs} jobs', flush=True)
                    phases['jobs'] = await burst(probes, jobs, job_prefix, counter, arguments)
                    await asyncio.sleep(SETTLE_SECONDS)

                    print(f'[{database}] {arguments.clients} clients signing in', flush=True)
                    load = SignInLoad(panel.base_url, accounts, arguments.think)
                    await load.start()
                    until = time.monotonic() + arguments.sign_in_seconds
                    try:
                        window = await probes.measure(lambda: time.monotonic() > until)
                    finally:
                        counts = await load.stop()
                    phases['sign_ins'] = {**probes.figures(window), 'sign_ins': sign_in_figures(counts)}
                    await asyncio.sleep(SETTLE_SECONDS)

                    print(f'[{database}] both: sign-ins and a burst of {arguments.jobs} jobs', flush=True)
                    load = SignInLoad(panel.base_url, accounts, arguments.think)
                    await load.start()
                    try:
                        await asyncio.sleep(3)  # the clients are under way before the burst starts
                        phases['both'] = await burst(probes, jobs, job_prefix, counter, arguments)
                    finally:
                        counts = await load.stop()
                    phases['both']['sign_ins'] = sign_in_figures(counts)
                except Exception:
                    print(f'panel log (tail):\n{panel.log()[-5000:]}', file=sys.stderr)
                    raise
                finally:
                    for sampler in samplers:
                        sampler.stopped.set()
                    await browser.close()
            panel_errors = logged_errors(panel.log())
            kept_log = Path(tempfile.gettempdir()) / f'loopbench-{arguments.label}-{database}-panel.log'
            kept_log.write_text(panel.log())
            print(f'[{database}] panel log kept in {kept_log}', flush=True)
    finally:
        for sampler in samplers:
            sampler.stop()
        if raw_echo is not None:
            raw_echo.close()
        subprocess.run(['docker', 'rm', '-f', *containers], check=False, capture_output=True)
    return {
        'measured_at': datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds'),
        'machine': machine_facts(load_before),
        'commit': git_commit(Path(arguments.root)),
        'settings': {
            'clients': arguments.clients,
            'think_s': arguments.think,
            'jobs': arguments.jobs,
            'job_action': arguments.action,
            'job_containers': arguments.job_containers,
            'healthz_every_ms': HEALTHZ_EVERY * 1000,
        },
        'phases': {name: phases[name] for name in PHASES if name in phases},
        'panel_log_errors': panel_errors,
    }


def logged_errors(log: str) -> dict[str, int]:
    """How often each exception ended a traceback in the panel's log ('KeyError at nicegui/client.py:531': 3)."""
    counts: dict[str, int] = {}
    place = ''
    for line in log.splitlines():
        frame = re.match(r'  File "(.+)", line (\d+)', line)
        if frame:
            path = frame.group(1).split('site-packages/')[-1].removeprefix(f'{PROJECT_ROOT}/')
            place = f'{path}:{frame.group(2)}'
        elif place and re.match(r'[A-Za-z_.]+(Error|Exception)\b', line):
            key = f'{line.split(":")[0]} at {place}'
            counts[key] = counts.get(key, 0) + 1
            place = ''
    return counts


def git_commit(root: Path) -> str:
    done = subprocess.run(['git', '-C', str(root), 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True)
    return done.stdout.strip() or '(not a git checkout)'


# ---- output ----


def print_table(label: str, results: dict[str, dict[str, Any]]) -> None:
    print(f'\nloop bench "{label}" (ms: p50 / p99 / max)')
    header = f'  {"database":<9} {"phase":<9} {"/healthz":>22} {"terminal echo":>22} {"docker exec echo":>22}  load'
    print(header)
    for database, result in results.items():
        for name, phase in result['phases'].items():
            cells = [_cell(phase[key]) for key in ('healthz', 'echo', 'raw_echo')]
            notes = []
            if 'sign_ins' in phase:
                sign_ins = phase['sign_ins']
                notes.append(
                    f'{sign_ins["per_second"]:.1f} sign-ins/s (p50 {sign_ins["sign_in_ms"].get("p50_ms", 0):.0f} ms)'
                )
                if sign_ins['failures']:
                    notes.append(f'{sign_ins["failures"]} failed')
            if phase.get('terminal_lost'):
                notes.append(f'terminal lost {phase["terminal_lost"]}x')
            if phase.get('jobs', {}).get('clicks_resent'):
                notes.append(f'{phase["jobs"]["clicks_resent"]} clicks resent')
            if 'jobs' in phase:
                jobs = phase['jobs']
                notes.append(f'{jobs["finished"]}/{jobs["dispatched"]} jobs in {jobs["seconds"]:.1f} s')
            print(f'  {database:<9} {name:<9} {cells[0]:>22} {cells[1]:>22} {cells[2]:>22}  {", ".join(notes)}')
        load = result['machine']['load_average_1min_before_and_after']
        print(f'  ({database}: commit {result["commit"]}, load average {load[0]} before / {load[1]} after)')


def _cell(summary: dict[str, float]) -> str:
    if not summary.get('n'):
        return '-'
    return f'{summary["p50_ms"]:.1f} / {summary["p99_ms"]:.0f} / {summary["max_ms"]:.0f}'


def merge_results(path: Path, label: str, results: dict[str, dict[str, Any]]) -> None:
    """Adds this run under ``label`` → database to the file, keeping every other label and database in it."""
    merged: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    merged.setdefault(label, {}).update(results)
    save_results(path, merged)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or '').split('\n\n')[0])
    parser.add_argument('--database', choices=['sqlite', 'postgres', 'both'], default='both')
    parser.add_argument('--label', default='before', help='key of this run in the results file (before, after, …)')
    parser.add_argument('--root', default=str(PROJECT_ROOT), help='run the panel from this checkout')
    parser.add_argument('--output', type=Path, default=RESULTS)
    parser.add_argument('--clients', type=int, default=20, help='sign-in clients')
    parser.add_argument('--think', type=float, default=1.0, help='seconds each client stays signed in')
    parser.add_argument('--jobs', type=int, default=200, help='jobs per burst')
    parser.add_argument('--job-containers', type=int, default=8, help='sleepers the burst acts on')
    parser.add_argument(
        '--action',
        choices=['restart', 'start'],
        default='restart',
        help='the bulk action of the burst; start on running containers is the job path with next to no docker work',
    )
    parser.add_argument('--idle-seconds', type=float, default=10)
    parser.add_argument('--sign-in-seconds', type=float, default=20)
    parser.add_argument('--max-burst-seconds', type=float, default=180)
    arguments = parser.parse_args()
    if arguments.jobs % arguments.job_containers:
        parser.error('--jobs must be a multiple of --job-containers (one click restarts each of them once)')
    databases = ['sqlite', 'postgres'] if arguments.database == 'both' else [arguments.database]
    results = {database: asyncio.run(run_database(database, arguments)) for database in databases}
    print_table(arguments.label, results)
    merge_results(arguments.output, arguments.label, results)


if __name__ == '__main__':
    main()
