"""Sign-in and sign-out start a new session id: a cookie planted before or copied before is never signed in again.
And after sign-in the browser only ever goes to a page of this panel."""

from __future__ import annotations

import json
from base64 import urlsafe_b64decode
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from playwright.async_api import Browser, BrowserContext, Page

from tests.support.panel import ADMIN_PASSWORD, Panel


def browser_id(cookie: str) -> str:
    """The id inside Starlette's signed session cookie (``base64(json).timestamp.signature``)."""
    payload = cookie.split('.', 1)[0]
    return str(json.loads(urlsafe_b64decode(payload + '=' * (-len(payload) % 4)))['id'])


async def session_cookie(context: BrowserContext) -> str:
    return next(cookie['value'] for cookie in await context.cookies() if cookie['name'] == 'session')


async def is_signed_in(panel: Panel, cookie: str) -> bool:
    async with httpx.AsyncClient(base_url=panel.base_url, cookies={'session': cookie}) as http:
        response = await http.get('/containers')
    return response.status_code == 200


async def sign_in(page: Page, redirect_to: str = '/containers') -> None:
    await page.goto(f'/login?redirect_to={redirect_to}')
    await page.get_by_label('Username').fill('admin')
    await page.get_by_label('Password', exact=True).fill(ADMIN_PASSWORD)
    await page.get_by_role('button', name='Sign in').click()
    await page.get_by_role('button', name='Sign out').wait_for(timeout=15_000)


def storage_file(panel: Panel, cookie: str) -> Path:
    return panel.data_dir / 'nicegui' / f'storage-user-{browser_id(cookie)}.json'


async def test_a_cookie_planted_before_sign_in_is_not_signed_in(panel: Panel, browser: Browser) -> None:
    # Given a session cookie an attacker got from the panel, planted in someone's browser
    async with httpx.AsyncClient(base_url=panel.base_url) as attacker:
        assert (await attacker.get('/login')).status_code == 200
        planted = attacker.cookies['session']
    context = await browser.new_context(base_url=panel.base_url)
    await context.add_cookies([{'name': 'session', 'value': planted, 'url': panel.base_url}])
    page = await context.new_page()
    # When that person signs in
    await sign_in(page)
    # Then their browser carries a new session id, and the planted cookie is not signed in
    current = await session_cookie(context)
    assert browser_id(current) != browser_id(planted)
    assert await is_signed_in(panel, current)
    assert not await is_signed_in(panel, planted)
    await context.close()


async def test_a_cookie_captured_before_sign_out_stays_dead_after_the_next_sign_in(
    panel: Panel, browser: Browser
) -> None:
    # Given a signed-in browser whose cookie was copied
    context = await browser.new_context(base_url=panel.base_url)
    page = await context.new_page()
    await sign_in(page)
    captured = await session_cookie(context)
    assert await is_signed_in(panel, captured)
    assert storage_file(panel, captured).exists()
    # When the browser signs out and signs in again
    await page.get_by_role('button', name='Sign out').click()
    await page.wait_for_url('**/login**')
    assert not await is_signed_in(panel, captured)
    await sign_in(page)
    # Then the copied cookie is still not signed in, and its session is gone from the server, file and all
    assert not await is_signed_in(panel, captured)
    assert not storage_file(panel, captured).exists()
    assert await is_signed_in(panel, await session_cookie(context))
    await context.close()


async def test_sign_in_never_redirects_to_another_site(panel: Panel, browser: Browser) -> None:
    context = await browser.new_context(base_url=panel.base_url)
    page = await context.new_page()
    await sign_in(page, redirect_to='/%5Cevil.example/phish')
    await page.wait_for_url(f'{panel.base_url}/')  # the dashboard, the home page
    assert urlsplit(page.url).netloc == urlsplit(panel.base_url).netloc
    await context.close()
