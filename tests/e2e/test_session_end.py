"""When a session ends or loses a role, its open pages stop on the server at once, whatever the browser does: the
terminal's process ends, the log stream closes, and the page answers no event any more.

Each browser here ignores the server's navigation to /login (as a modified or stuck browser would), so nothing below
happens because a page was left."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import subprocess
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import socketio
from playwright.async_api import Browser, Page

from auth.accounts import Accounts
from core.storage.sqlite import SQLiteDatabase
from tests.support.browser import signed_in_page
from tests.support.counting_proxy import CountingProxy
from tests.support.eventually import eventually
from tests.support.panel import Panel

TIMEOUT_MS = 20_000


def new_account(panel: Panel, role: str) -> tuple[str, str]:
    username, password = f'{role}-{uuid.uuid4().hex[:6]}', secrets.token_urlsafe(12)
    Accounts(SQLiteDatabase(panel.data_dir / 'berth.sqlite3')).create(username, password, role)
    return username, password


async def ignore_navigation(page: Page) -> None:
    """From now on this page stays where it is when the server tells it to go elsewhere."""
    await page.evaluate('window.open = () => null')


async def on_users_page(browser: Browser, panel: Panel, username: str) -> Page:
    """Another browser, an admin's, on /admin/users with ``username`` selected."""
    admin = await signed_in_page(browser, panel.base_url, path='/admin/users')
    await admin.locator('tbody tr').filter(has_text=username).locator('.q-checkbox').click()
    return admin


def processes(container: str) -> list[str]:
    lines = subprocess.run(['docker', 'top', container], check=True, capture_output=True, text=True).stdout.splitlines()
    return [line.split(None, 7)[-1] for line in lines[1:]]


async def test_a_disabled_users_open_terminal_ends_at_once(
    panel: Panel, browser: Browser, make_container: Callable[..., str]
) -> None:
    # Given an operator whose terminal runs a command in a container
    container = make_container(name=f'berth-e2e-{uuid.uuid4().hex[:10]}')
    username, password = new_account(panel, 'operator')
    page = await signed_in_page(browser, panel.base_url, username=username, password=password)
    await page.goto(f'/containers/{container}/terminal')
    await page.locator('.xterm-rows').get_by_text('/ #').first.wait_for(timeout=TIMEOUT_MS)
    await page.locator('[data-berth-terminal]').click()
    await page.keyboard.type('sleep 1003\n')
    expected = ['sleep 600', '/bin/sh', 'sleep 1003']
    await eventually(
        lambda: processes(container) == expected, 10, lambda: f'{expected}, not {processes(container)}', interval=0.2
    )
    await ignore_navigation(page)
    # When an admin disables the account
    admin = await on_users_page(browser, panel, username)
    await admin.get_by_role('button', name='Disable').click()
    # Then the shell and what it runs are gone, although the operator's browser is still on the page
    await eventually(
        lambda: processes(container) == ['sleep 600'],
        10,
        lambda: f'only sleep 600, not {processes(container)}',
        interval=0.2,
    )
    assert page.url.endswith('/terminal')


async def test_signing_out_stops_a_log_view_open_in_another_tab(
    proxied_panel: tuple[Panel, CountingProxy], browser: Browser, ticker: str
) -> None:
    # Given a log view following a container that prints ten lines a second
    panel, streams = proxied_panel
    page = await signed_in_page(browser, panel.base_url)
    frames_with_lines: list[float] = []

    def count_lines(payload: str | bytes) -> None:
        if 'tick ' in str(payload):
            frames_with_lines.append(time.monotonic())

    page.on('websocket', lambda socket: socket.on('framereceived', count_lines))
    await page.goto(f'/containers/{ticker}/logs')
    await eventually(lambda: len(frames_with_lines) > 3 and streams.live == 1, 15, 'lines in the page, one stream')
    await ignore_navigation(page)
    # When the same browser signs out in another tab
    other = await page.context.new_page()
    await other.goto('/jobs')
    await other.get_by_role('button', name='Sign out').click()
    await other.wait_for_url('**/login**')
    signed_out = time.monotonic()
    # Then the log stream is closed on the server, and no line reaches the page any more
    await eventually(lambda: streams.live == 0, 5, 'the log stream to close')
    await asyncio.sleep(2)
    assert [at for at in frames_with_lines if at > signed_out + 0.5] == []
    assert page.url.endswith('/logs')


class PageSocket:
    """A page loaded over plain HTTP and connected by a raw socket.io client: sends the page's events by hand and
    records what the server sends back (what a modified browser would do)."""

    def __init__(self, panel: Panel, cookie: str, html: str) -> None:
        self.panel = panel
        self.cookie = cookie
        match = re.search(r"'client_id': '([0-9a-f-]+)'", html)
        elements = re.search(r'parseElements\(String\.raw`(.*?)`\)', html, re.DOTALL)
        assert match is not None and elements is not None
        self.client_id = match.group(1)
        self.elements: dict[str, Any] = json.loads(elements.group(1))
        self.received: list[tuple[str, Any]] = []
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on('*', lambda event, data: self.received.append((event, data)))

    @classmethod
    async def open(cls, panel: Panel, cookie: str, path: str) -> PageSocket:
        async with httpx.AsyncClient(base_url=panel.base_url, cookies={'session': cookie}) as http:
            response = await http.get(path)
        assert response.status_code == 200
        page = cls(panel, cookie, response.text)
        query = urlencode(
            {
                'client_id': page.client_id,
                'implicit_handshake': 'true',
                'tab_id': uuid.uuid4().hex,
                'document_id': uuid.uuid4().hex,
                'next_message_id': 0,
            }
        )
        await page.sio.connect(
            f'{panel.base_url}?{query}',
            transports=['websocket'],
            wait_timeout=5,
            headers={'Origin': panel.base_url, 'Cookie': f'session={cookie}'},
            socketio_path='/_nicegui_ws/socket.io',
        )
        return page

    def listener(self, predicate: Callable[[dict[str, Any]], bool], event_type: str) -> tuple[int, str]:
        for element_id, element in self.elements.items():
            if predicate(element):
                return int(element_id), next(
                    listener['listener_id'] for listener in element['events'] if listener['type'] == event_type
                )
        raise AssertionError('no such element on the page')

    async def answers(self, target: tuple[int, str], *args: Any) -> bool:
        """Sends one event; True when the server answers with a change to some element within a second and a half."""
        self.received.clear()
        await self.sio.emit(
            'event',
            {
                'id': target[0],
                'client_id': self.client_id,
                'listener_id': target[1],
                'args': [json.dumps(arg) for arg in args],
            },
        )
        try:
            await eventually(
                lambda: any(
                    event == 'update' and any(value is not None for key, value in data.items() if key != '_id')
                    for event, data in self.received
                ),
                1.5,
                'an update from the server',
            )
        except AssertionError:
            return False
        return True

    async def sent_to_login(self, timeout: float) -> None:
        """Waits until the server has told the page to open /login."""
        await eventually(
            lambda: any(event == 'open' and data.get('path') == '/login' for event, data in self.received),
            timeout,
            'the page sent to /login',
        )


async def audit_page_of_a_second_admin(panel: Panel, browser: Browser) -> tuple[str, PageSocket]:
    username, password = new_account(panel, 'admin')
    page = await signed_in_page(browser, panel.base_url, username=username, password=password)
    cookie = next(cookie['value'] for cookie in await page.context.cookies() if cookie['name'] == 'session')
    return username, await PageSocket.open(panel, cookie, '/admin/audit')


def dark_mode_button(audit: PageSocket) -> tuple[int, str]:
    """A control of the page frame that answers whatever the role: a page that answers it is still alive."""
    return audit.listener(lambda element: element.get('props', {}).get('aria-label') == 'Toggle dark mode', 'click')


async def test_a_downgraded_admins_audit_page_stops_answering(panel: Panel, browser: Browser) -> None:
    # Given a second admin's audit page that answers a filter change
    username, audit = await audit_page_of_a_second_admin(panel, browser)
    user_filter = audit.listener(lambda element: element.get('props', {}).get('label') == 'User', 'update:value')
    assert await audit.answers(user_filter, username)
    # When another admin makes them a viewer on the users page
    admin = await on_users_page(browser, panel, username)
    await admin.get_by_label('Role for selected').click()
    await admin.get_by_role('option', name='viewer', exact=True).click()
    await admin.get_by_role('button', name='Set role').click()
    # Then the page is sent to sign-in, and answers neither a filter change nor anything else
    await audit.sent_to_login(timeout=5)
    assert not await audit.answers(user_filter, 'admin')
    assert not await audit.answers(dark_mode_button(audit))
    await audit.sio.disconnect()


async def test_a_role_taken_away_elsewhere_stops_and_closes_the_page_within_seconds(
    panel: Panel, browser: Browser
) -> None:
    # Given a second admin's audit page that answers a click
    username, audit = await audit_page_of_a_second_admin(panel, browser)
    dark_mode = dark_mode_button(audit)
    assert await audit.answers(dark_mode)
    # When their role is changed outside this panel's pages (in the database, as another instance would)
    SQLiteDatabase(panel.data_dir / 'berth.sqlite3').execute(
        'UPDATE users SET role = ? WHERE username = ?', ('viewer', username)
    )
    # Then the sweep (every few seconds, off the loop) reads the change: the page is sent to sign-in, and the socket
    # guard drops its events from then on
    await audit.sent_to_login(timeout=10)
    assert not await audit.answers(dark_mode)
    await audit.sio.disconnect()
