"""The client address the sign-in limit and the audit log use: X-Forwarded-For counts only from a trusted proxy."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator

import pytest
from playwright.async_api import Browser

from auth.accounts import Accounts
from core.storage.audit import AuditEntry, AuditLog
from core.storage.sqlite import SQLiteDatabase
from tests.support.eventually import eventually
from tests.support.panel import Panel

FORWARDED = '203.0.113.9'


@pytest.fixture(scope='module')
def panel_behind_proxy() -> Iterator[Panel]:
    with Panel(env={'BERTH_TRUSTED_PROXIES': '127.0.0.1'}) as panel:
        yield panel


async def sign_in_address(panel: Panel, browser: Browser) -> str:
    """Signs a new account in from a browser that sends ``X-Forwarded-For``; the address the audit log recorded."""
    username, password = f'viewer-{uuid.uuid4().hex[:6]}', secrets.token_urlsafe(12)
    database = SQLiteDatabase(panel.data_dir / 'berth.sqlite3')
    Accounts(database).create(username, password, 'viewer')
    context = await browser.new_context(base_url=panel.base_url, extra_http_headers={'X-Forwarded-For': FORWARDED})
    page = await context.new_page()
    await page.goto('/login')
    await page.get_by_label('Username').fill(username)
    await page.get_by_label('Password', exact=True).fill(password)
    await page.get_by_role('button', name='Sign in').click()
    await page.wait_for_url(f'{panel.base_url}/')  # the dashboard, the home page
    await context.close()

    def sign_ins() -> list[AuditEntry]:
        return [entry for entry in AuditLog(database).entries(username=username) if entry.action == 'auth.login']

    await eventually(sign_ins, 5, 'the sign-in in the audit log', interval=0.1)
    return sign_ins()[0].address


async def test_forwarded_for_is_ignored_from_an_untrusted_peer(panel: Panel, browser: Browser) -> None:
    assert await sign_in_address(panel, browser) == '127.0.0.1'


async def test_forwarded_for_counts_from_a_trusted_proxy(panel_behind_proxy: Panel, browser: Browser) -> None:
    assert await sign_in_address(panel_behind_proxy, browser) == FORWARDED
