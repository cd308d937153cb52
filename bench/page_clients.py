"""Signed-in Socket.IO clients that do what a page does, without a browser: the load bench's people on /containers,
and the soak's page opens. They run in a process of their own, so their CPU is not the probes'.

A ``PageClient`` signs in the way ``bench.loop.SignInClient`` does (GET /login, the page's socket, the inputs' and the
button's events, GET /auth/complete), lands on /containers, types ``filter_text`` into "Filter containers" as a person
would, and stays: it receives the page's ``update`` messages, acknowledges them every 3 s as the page's JavaScript does
(so the panel may drop its history), and answers the JavaScript the panel asks to run with ``null``. ``PageOpener``
signs in once and then opens pages over and over: GET the page (the panel builds it), its socket connects, stays
``dwell`` seconds, disconnects (the panel deletes the page ``reconnect_timeout`` later, as for a closed tab).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.synchronize import Event as ProcessEvent
from typing import Any

import aiohttp
import socketio

from bench.loop import SOCKET_PATH, SignInClient, SignInStats, WirePage

ACK_EVERY = 3.0


@dataclass
class PageStats:
    landed: int = 0  # clients on their page with the socket connected
    updates: int = 0  # `update` messages received, all clients
    update_bytes: int = 0
    javascript_answered: int = 0
    disconnects: int = 0  # sockets the panel dropped
    pages_opened: int = 0
    open_ms: list[float] = field(default_factory=list)  # GET of the page until its socket connected
    failures: int = 0
    errors: list[str] = field(default_factory=list)
    # per socket: [container name, state, this machine's wall clock] whenever an update shows a row's state anew
    seen: list[list[list[Any]]] = field(default_factory=list)

    def failed(self, who: str, error: BaseException) -> None:
        self.failures += 1
        if len(self.errors) < 5:
            self.errors.append(f'{who}: {type(error).__name__}: {error}')


class PageSocket:
    """One page's socket, connected as the page's JavaScript connects it."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str, page: WirePage, stats: PageStats) -> None:
        self.http, self.base_url, self.page, self.stats = http, base_url, page, stats
        self.next_message_id = int(page.query['next_message_id'])
        self.acked = -1
        self.sio = socketio.AsyncClient(http_session=http, reconnection=False)
        self.sio.on('*', self._on_message)
        self.sio.on('disconnect', self._on_disconnect)
        self.closing = False
        self.states: dict[str, str] = {}
        self.seen: list[list[Any]] = []
        stats.seen.append(self.seen)

    async def __aenter__(self) -> PageSocket:
        await self.sio.connect(
            self.page.socket_url(self.base_url), socketio_path=SOCKET_PATH, transports=['websocket'], wait_timeout=30
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        self.closing = True
        await self.sio.disconnect()

    async def _on_message(self, kind: str, data: Any) -> None:
        if isinstance(data, dict) and isinstance(data.get('_id'), int):
            self.next_message_id = data['_id'] + 1
        if kind == 'update':
            self.stats.updates += 1
            self.stats.update_bytes += len(str(data))
            self._note_states(data)
        elif kind == 'run_javascript' and isinstance(data, dict) and data.get('request_id'):
            self.stats.javascript_answered += 1
            answer = {'request_id': data['request_id'], 'client_id': self.page.query['client_id'], 'result': None}
            await self.sio.emit('javascript_response', answer)

    def _note_states(self, data: Any) -> None:
        """Each table row's state as it arrives (as the browsers' MutationObserver notes it), for the panel's share of
        the event → browser delay: event → Socket.IO client."""
        now = time.time()
        for element in data.values() if isinstance(data, dict) else ():
            rows = element.get('props', {}).get('rows') if isinstance(element, dict) else None
            for row in rows if isinstance(rows, list) else ():
                name, state = row.get('name'), row.get('state')
                if isinstance(name, str) and isinstance(state, str) and self.states.get(name) != state:
                    self.states[name] = state
                    self.seen.append([name, state, now * 1000])

    def _on_disconnect(self, *_: object) -> None:
        if not self.closing:
            self.stats.disconnects += 1

    async def emit_event(self, message: dict[str, Any]) -> None:
        await self.sio.emit('event', message)

    async def ack(self) -> None:
        if self.acked < self.next_message_id and self.sio.connected:
            await self.sio.emit(
                'ack', {'client_id': self.page.query['client_id'], 'next_message_id': self.next_message_id}
            )
            self.acked = self.next_message_id


class PageClient(SignInClient):
    """A person on /containers with a filter typed in, receiving the live table until cancelled."""

    def __init__(self, base_url: str, username: str, password: str, filter_text: str, stats: PageStats) -> None:
        super().__init__(base_url, username, password, 0.0, SignInStats())
        self.filter_text, self.page_stats = filter_text, stats

    async def run(self) -> None:
        async with aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), timeout=aiohttp.ClientTimeout(total=60)
        ) as http:
            while True:  # stay() returns only when the panel dropped the socket: sign in and land again
                try:
                    await self.sign_in(http)
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    self.page_stats.failed(self.username, error)
                    await asyncio.sleep(1)

    async def stay(self, http: aiohttp.ClientSession, landing: WirePage) -> None:
        async with PageSocket(http, self.base_url, landing, self.page_stats) as page:
            if self.filter_text:
                await page.emit_event(
                    landing.event('nicegui-input', 'Filter containers', 'update:value', self.filter_text)
                )
            self.page_stats.landed += 1
            try:
                while page.sio.connected:
                    await asyncio.sleep(ACK_EVERY)
                    await page.ack()
            finally:
                self.page_stats.landed -= 1


class PageOpener(SignInClient):
    """A signed-in person opening pages one after the other (each closed after ``dwell`` s) until ``opens`` are done."""

    def __init__(
        self, base_url: str, username: str, password: str, paths: list[str], counter: Callable[[], bool], dwell: float,
        stats: PageStats,
    ) -> None:  # fmt: skip
        super().__init__(base_url, username, password, 0.0, SignInStats())
        self.paths, self.counter, self.dwell, self.page_stats = paths, counter, dwell, stats

    async def run(self) -> None:
        async with aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), timeout=aiohttp.ClientTimeout(total=60)
        ) as http:
            await self.sign_in(http)  # lands on /containers, which counts as a page open
            index = 0
            while self.counter():
                path = self.paths[index % len(self.paths)]
                index += 1
                try:
                    started = time.perf_counter()
                    async with http.get(f'{self.base_url}{path}') as response:
                        page = WirePage.parse(await response.text())
                    async with PageSocket(http, self.base_url, page, self.page_stats):
                        self.page_stats.open_ms.append((time.perf_counter() - started) * 1000)
                        self.page_stats.pages_opened += 1
                        await asyncio.sleep(self.dwell)
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    self.page_stats.failed(f'{self.username} {path}', error)
                    await asyncio.sleep(0.5)

    async def stay(self, http: aiohttp.ClientSession, landing: WirePage) -> None:
        async with PageSocket(http, self.base_url, landing, self.page_stats):
            self.page_stats.pages_opened += 1
            await asyncio.sleep(self.dwell)


def _quiet(loop: asyncio.AbstractEventLoop) -> None:
    # clients cancelled in the middle of a request leave aiohttp notes about unclosed connections: not news
    loop.set_exception_handler(lambda loop, context: None)
    for name in ('engineio.client', 'socketio.client'):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _figures(stats: PageStats, seconds: float) -> dict[str, Any]:
    return {
        'seconds': round(seconds, 1),
        'updates': stats.updates,
        'update_bytes': stats.update_bytes,
        'javascript_answered': stats.javascript_answered,
        'disconnects': stats.disconnects,
        'pages_opened': stats.pages_opened,
        'open_ms': stats.open_ms,
        'failures': stats.failures,
        'errors': stats.errors,
    }


def people_process(
    base_url: str,
    accounts: list[tuple[str, str]],
    filter_text: str,
    ready: ProcessEvent,
    stop: ProcessEvent,
    results: multiprocessing.Queue[dict[str, Any]],
) -> None:
    """One PageClient per account; ``ready`` once every one has landed; the figures into ``results`` at ``stop``."""

    async def main() -> dict[str, Any]:
        _quiet(asyncio.get_running_loop())
        stats = PageStats()
        tasks = [
            asyncio.create_task(PageClient(base_url, name, password, filter_text, stats).run())
            for name, password in accounts
        ]
        while stats.landed < len(accounts) and not stop.is_set():
            await asyncio.sleep(0.1)
        ready.set()
        started, updates_at_start = time.monotonic(), stats.updates
        while not stop.is_set():
            await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return {
            **_figures(stats, time.monotonic() - started),
            'updates_while_measured': stats.updates - updates_at_start,
            'seen': stats.seen,
        }

    results.put(asyncio.run(main()))


def opener_process(
    base_url: str,
    accounts: list[tuple[str, str]],
    paths: list[str],
    opens: int,
    dwell: float,
    ready: ProcessEvent,
    stop: ProcessEvent,
    results: multiprocessing.Queue[dict[str, Any]],
) -> None:
    """One PageOpener per account, ``opens`` page opens in all (each person's sign-in landing counts as one)."""

    async def main() -> dict[str, Any]:
        _quiet(asyncio.get_running_loop())
        stats = PageStats()
        claimed = [len(accounts)]  # the landings

        def claim() -> bool:
            if claimed[0] >= opens or stop.is_set():
                return False
            claimed[0] += 1
            return True

        ready.set()
        started = time.monotonic()
        await asyncio.gather(
            *(PageOpener(base_url, name, password, paths, claim, dwell, stats).run() for name, password in accounts),
            return_exceptions=True,
        )
        return _figures(stats, time.monotonic() - started)

    results.put(asyncio.run(main()))


class ClientProcess:
    """``target`` in a child process (spawned), with a ready and a stop event and a queue for its figures."""

    def __init__(self, target: Callable[..., None], *arguments: Any) -> None:
        context = multiprocessing.get_context('spawn')
        self.ready, self.stop_event = context.Event(), context.Event()
        self.results: multiprocessing.Queue[dict[str, Any]] = context.Queue()
        self.process = context.Process(
            target=target, args=(*arguments, self.ready, self.stop_event, self.results), daemon=True
        )

    async def start(self, timeout: float = 120) -> None:
        self.process.start()
        if not await asyncio.to_thread(self.ready.wait, timeout):
            self.stop_event.set()
            raise RuntimeError('the Socket.IO clients were not ready in time')

    async def finished(self, timeout: float) -> dict[str, Any]:
        """Their figures once they are done by themselves (the opener), stopping them after ``timeout`` s."""
        try:
            return await asyncio.to_thread(self.results.get, True, timeout)
        except Exception:
            return await self.stop()

    async def stop(self) -> dict[str, Any]:
        self.stop_event.set()
        try:
            return await asyncio.to_thread(self.results.get, True, 60)
        finally:
            await asyncio.to_thread(self.process.join, 10)
            if self.process.is_alive():
                self.process.kill()
