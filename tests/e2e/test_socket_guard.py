"""NiceGUI's socket only for our own origin and a live signed-in session (NiceGUI alone accepts any origin)."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlencode

import httpx
import pytest
import socketio
from playwright.async_api import Browser

from tests.support.browser import signed_in_page
from tests.support.panel import Panel


async def connect(panel: Panel, client_id: str, headers: dict[str, str]) -> socketio.AsyncClient:
    """Opens the page's socket the way nicegui.js does (implicit handshake in the query)."""
    query = urlencode(
        {
            'client_id': client_id,
            'implicit_handshake': 'true',
            'tab_id': uuid.uuid4().hex,
            'document_id': uuid.uuid4().hex,
            'next_message_id': 0,
        }
    )
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        f'{panel.base_url}?{query}',
        headers=headers,
        transports=['websocket'],
        socketio_path='/_nicegui_ws/socket.io',
        wait_timeout=5,
    )
    return client


async def fresh_client_id(panel: Panel, cookie: str) -> str:
    """Loads /containers over plain HTTP with the session cookie: a new page, never connected."""
    async with httpx.AsyncClient(base_url=panel.base_url, headers={'Cookie': cookie}) as http:
        response = await http.get('/containers')
    assert response.status_code == 200
    match = re.search(r'client_id["\']?\s*:\s*["\']([0-9a-f-]{20,})', response.text)
    assert match, 'no client id in the page'
    return match.group(1)


async def test_socket_needs_our_origin_and_a_live_session(panel: Panel, browser: Browser) -> None:
    page = await signed_in_page(browser, panel.base_url)
    cookies = {cookie['name']: cookie['value'] for cookie in await page.context.cookies()}
    cookie = f'session={cookies["session"]}'
    # control: a page of our own session, from our own origin, connects (so the refusals below are real)
    own_headers = {'Origin': panel.base_url, 'Cookie': cookie}
    own_client = await connect(panel, await fresh_client_id(panel, cookie), own_headers)
    assert own_client.connected
    await own_client.disconnect()
    # a cross-origin socket, even with the session cookie, is refused
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(panel, await fresh_client_id(panel, cookie), {'Origin': 'http://evil.example', 'Cookie': cookie})
    # a valid client id, of a page that never connected (so NiceGUI alone would take it), without the session
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(panel, await fresh_client_id(panel, cookie), {'Origin': panel.base_url})
    # after sign-out, the session's other open tabs are sent to sign-in, and the old cookie opens no socket
    orphan = await fresh_client_id(panel, cookie)
    second_tab = await page.context.new_page()
    await second_tab.goto('/jobs')
    await second_tab.get_by_role('button', name='Sign out').wait_for()
    await page.get_by_role('button', name='Sign out').click()
    await page.wait_for_url('**/login**')
    await second_tab.wait_for_url('**/login**', timeout=10_000)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(panel, orphan, {'Origin': panel.base_url, 'Cookie': cookie})


async def test_engine_io_answers_cross_origin_requests_only_for_our_origin(panel: Panel) -> None:
    handshake = '/_nicegui_ws/socket.io/?EIO=4&transport=polling'
    async with httpx.AsyncClient(base_url=panel.base_url) as http:
        foreign = await http.get(handshake, headers={'Origin': 'http://evil.example'})
        own = await http.get(handshake, headers={'Origin': panel.base_url})
    assert foreign.headers.get('Access-Control-Allow-Origin') is None
    assert own.status_code == 200 and own.headers.get('Access-Control-Allow-Origin') == panel.base_url
    assert '"sid"' in own.text


async def test_a_handshake_for_another_sessions_page_is_refused(panel: Panel, browser: Browser) -> None:
    # Given two signed-in browsers, each with a page that never connected
    cookies = []
    for _ in range(2):
        page = await signed_in_page(browser, panel.base_url)
        cookies.append(f'session={next(c["value"] for c in await page.context.cookies() if c["name"] == "session")}')
    own_page, foreign_page = [await fresh_client_id(panel, cookie) for cookie in cookies]
    # When the first browser's socket asks to speak for a page by an explicit handshake
    answers = []
    for client_id in (own_page, foreign_page):
        client = await connect_without_page(panel, {'Origin': panel.base_url, 'Cookie': cookies[0]})
        answers.append(
            await client.call(
                'handshake',
                {'client_id': client_id, 'tab_id': uuid.uuid4().hex, 'document_id': uuid.uuid4().hex},
                timeout=5,
            )
        )
        await client.disconnect()
    # Then it may for its own page only
    assert answers == [True, False]


async def connect_without_page(panel: Panel, headers: dict[str, str]) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        panel.base_url,
        headers=headers,
        transports=['websocket'],
        socketio_path='/_nicegui_ws/socket.io',
        wait_timeout=5,
    )
    return client
