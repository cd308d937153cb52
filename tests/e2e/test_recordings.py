"""Recorded terminal sessions in headless Chromium: an operator's session is recorded, listed for them, replayed in
the page (play, seek), downloaded as asciicast and linked from the audit log; another operator is refused it."""

from __future__ import annotations

import json
import secrets
import urllib.request
import uuid
from collections.abc import Callable

from playwright.async_api import Browser, Page, expect

from auth.accounts import Accounts
from core.storage.audit import AuditLog
from core.storage.sqlite import SQLiteDatabase
from tests.support.browser import signed_in_page
from tests.support.panel import Panel

MakeContainer = Callable[..., str]
TIMEOUT_MS = 20_000
SCREEN_TEXT = """() => {
  const buffer = getElement(document.querySelector('[data-berth-replay]')).terminal.buffer.active;
  const lines = [];
  for (let row = 0; row < buffer.length; row++) lines.push(buffer.getLine(row).translateToString(true));
  return lines.join('\\n');
}"""


def operator(panel: Panel) -> tuple[str, str]:
    username, password = f'operator-{uuid.uuid4().hex[:6]}', secrets.token_urlsafe(12)
    Accounts(SQLiteDatabase(panel.data_dir / 'berth.sqlite3')).create(username, password, 'operator')
    return username, password


async def screen_text(page: Page) -> str:
    return str(await page.evaluate(SCREEN_TEXT))


async def test_a_terminal_session_is_recorded_replayed_and_kept_from_other_operators(
    panel: Panel, browser: Browser, make_container: MakeContainer
) -> None:
    # Given an operator who ran a command in a terminal
    container = make_container(name=f'berth-e2e-{uuid.uuid4().hex[:10]}')
    username, password = operator(panel)
    page = await signed_in_page(browser, panel.base_url, username=username, password=password)
    await page.goto(f'/containers/{container}/terminal')
    await page.locator('.xterm-rows').get_by_text('/ #').first.wait_for(timeout=TIMEOUT_MS)
    await page.locator('[data-berth-terminal]').click()
    await page.keyboard.type('echo replayed-$((6*7))')
    await page.keyboard.press('Enter')
    await page.locator('.xterm-rows').get_by_text('replayed-42').first.wait_for(timeout=TIMEOUT_MS)
    await page.goto('/recordings')  # leaving the page ends the session

    # Then their recordings page lists it, and the replay shows what the terminal showed
    row = page.get_by_role('row').filter(has_text=container)
    await expect(row).to_have_count(1, timeout=TIMEOUT_MS)
    await row.get_by_role('link', name='Replay').click()
    await expect(page.get_by_role('status').filter(has_text='events')).to_be_visible(timeout=TIMEOUT_MS)
    await page.get_by_role('slider', name='Seek').fill('1000')  # to the end at once
    await page.wait_for_function(f'() => ({SCREEN_TEXT})().includes("replayed-42")', timeout=TIMEOUT_MS)
    await page.get_by_role('slider', name='Seek').fill('0')
    assert 'replayed-42' not in await screen_text(page)
    await page.get_by_role('button', name='Play').click()
    await page.wait_for_function(f'() => ({SCREEN_TEXT})().includes("replayed-42")', timeout=TIMEOUT_MS)
    await expect(page.get_by_role('button', name='Play')).to_be_visible(timeout=TIMEOUT_MS)  # played to the end
    recording_id = page.url.rsplit('/', 1)[-1]

    # And the download is the asciicast file, its header naming who and where
    cookies = {cookie['name']: cookie['value'] for cookie in await page.context.cookies()}
    request = urllib.request.Request(
        f'{panel.base_url}/recordings/{recording_id}.cast?download=1',
        headers={'Cookie': '; '.join(f'{name}={value}' for name, value in cookies.items())},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert 'attachment' in response.headers['Content-Disposition']
        lines = response.read().decode().splitlines()
    header = json.loads(lines[0])
    assert header['version'] == 2 and header['berth']['username'] == username
    assert header['berth']['container'] == container
    assert any('replayed-42' in json.loads(line)[2] for line in lines[1:])

    # And the audit entry of the session links to the replay; replay and download are audited
    audit = AuditLog(SQLiteDatabase(panel.data_dir / 'berth.sqlite3'))
    started = [
        entry for entry in audit.entries(username=username, action='container.exec') if entry.result == 'started'
    ]
    assert started and json.loads(started[0].params)['recording'] == recording_id
    actions = {entry.action for entry in audit.entries(username=username, action='recording.')}
    assert actions == {'recording.replay', 'recording.download'}

    # But another operator neither lists nor opens it, and the refusal is audited
    other, other_password = operator(panel)
    page = await signed_in_page(browser, panel.base_url, username=other, password=other_password)
    await page.goto('/recordings')
    await expect(page.get_by_text('0 recordings (yours)')).to_be_visible(timeout=TIMEOUT_MS)
    await page.goto(f'/recordings/{recording_id}')
    await expect(page.get_by_text(f'{other} may replay only the terminal sessions they opened.')).to_be_visible(
        timeout=TIMEOUT_MS
    )
    response = await page.request.get(f'/recordings/{recording_id}.cast')
    assert response.status == 403
    refused = audit.entries(username=other, action='recording.')
    assert refused and all(entry.result.startswith('refused') for entry in refused)
