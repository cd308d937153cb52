"""The in-page terminal in headless Chromium against the real engine: typing, TTY size, copy and paste, no shell left
behind when the page goes away, a viewer's and an operator's refusal, and a page that stops taking output."""

from __future__ import annotations

import json
import secrets
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from auth.accounts import Accounts
from components.terminal_output import PAUSED
from core.storage.audit import AuditEntry, AuditLog
from core.storage.sqlite import SQLiteDatabase
from tests.support.browser import signed_in_page
from tests.support.eventually import eventually
from tests.support.panel import Panel

MakeContainer = Callable[..., str]
TIMEOUT_MS = 20_000
TERMINAL = "getElement(document.querySelector('[data-berth-terminal]')).terminal"
SHOWS_LINE = (
    '(expected) => { const buffer = '
    + TERMINAL
    + """.buffer.active;
  for (let row = 0; row < buffer.length; row++) {
    if (buffer.getLine(row).translateToString(true) === expected) return true;
  }
  return false;
}"""
)
SELECT_LINE = (
    '(expected) => { const terminal = '
    + TERMINAL
    + """;
  const buffer = terminal.buffer.active;
  for (let row = 0; row < buffer.length; row++) {
    if (buffer.getLine(row).translateToString(true) === expected) terminal.selectLines(row, row);
  }
}"""
)


def processes(container: str) -> list[str]:
    lines = subprocess.run(['docker', 'top', container], check=True, capture_output=True, text=True).stdout.splitlines()
    return [line.split(None, 7)[-1] for line in lines[1:]]


async def wait_for_processes(container: str, expected: list[str], timeout: float = 30) -> None:
    await eventually(
        lambda: processes(container) == expected,
        timeout,
        lambda: f'processes {expected} in the container, not {processes(container)}',
        interval=0.2,
    )


async def open_terminal(browser: Browser, panel: Panel, container: str) -> Page:
    page = await signed_in_page(browser, panel.base_url)
    await page.goto(f'/containers/{container}/terminal')
    await page.locator('.xterm-rows').get_by_text('/ #').first.wait_for(timeout=TIMEOUT_MS)
    return page


async def shows_line(page: Page, line: str) -> None:
    """Waits until a whole line of the terminal reads exactly ``line``."""
    await page.wait_for_function(SHOWS_LINE, arg=line, timeout=TIMEOUT_MS)


async def type_line(page: Page, text: str) -> None:
    await page.keyboard.type(text)
    await page.keyboard.press('Enter')


async def test_typing_resizing_copy_paste_and_interrupt(
    panel: Panel, browser: Browser, make_container: MakeContainer
) -> None:
    container = make_container(name=f'berth-e2e-{uuid.uuid4().hex[:10]}')
    page = await open_terminal(browser, panel, container)
    await page.locator('[data-berth-terminal]').click()

    await type_line(page, 'echo hi')
    await shows_line(page, 'hi')

    # the TTY has the size the terminal was fitted to, before and after the window changes
    for width, height in ((1600, 1000), (900, 600)):
        await page.set_viewport_size({'width': width, 'height': height})
        await page.wait_for_timeout(300)
        rows, cols = await page.evaluate(f'[{TERMINAL}.rows, {TERMINAL}.cols]')
        await type_line(page, 'stty size')
        await shows_line(page, f'{rows} {cols}')
    assert cols < 100

    # paste goes in as input; with text selected, Ctrl-C copies it instead of interrupting
    await page.context.grant_permissions(['clipboard-read', 'clipboard-write'])
    await page.evaluate('navigator.clipboard.writeText("echo pasted-$((3*3))")')
    await page.keyboard.press('Control+V')
    await page.keyboard.press('Enter')
    await shows_line(page, 'pasted-9')
    await page.evaluate(SELECT_LINE, 'pasted-9')
    await page.keyboard.press('Control+C')
    assert (await page.evaluate('navigator.clipboard.readText()')).strip() == 'pasted-9'

    # Ctrl-C without a selection interrupts, promptly, even during a flood
    await page.evaluate(f'{TERMINAL}.clearSelection()')
    await type_line(page, 'yes')
    await page.wait_for_timeout(1500)
    started = time.monotonic()
    await page.keyboard.press('Control+C')
    await type_line(page, 'echo done-$((2*2))')
    await shows_line(page, 'done-4')
    assert time.monotonic() - started < 5


async def test_closing_terminals_leaves_no_shell_in_the_container(
    panel: Panel, browser: Browser, make_container: MakeContainer
) -> None:
    # Given two terminals on the page, each its own shell
    container = make_container(name=f'berth-e2e-{uuid.uuid4().hex[:10]}')
    page = await open_terminal(browser, panel, container)
    await page.get_by_role('button', name='New terminal').click()
    await wait_for_processes(container, ['sleep 600', '/bin/sh', '/bin/sh'])
    # When the second one's tab is closed, its shell ends and the first one's stays
    await page.get_by_role('tab', name='2: shell').get_by_role('button', name='Close terminal').click()
    await wait_for_processes(container, ['sleep 600', '/bin/sh'])
    await page.locator('[data-berth-terminal]').click()
    await type_line(page, 'sleep 1003')
    await wait_for_processes(container, ['sleep 600', '/bin/sh', 'sleep 1003'])
    # When the browser tab is closed
    await page.context.close()
    # Then, once the panel gives up waiting for a reconnect, nothing the terminal started runs any more
    await wait_for_processes(container, ['sleep 600'])
    # And the session's start and end are in the audit log: who, where, what, how it ended
    audit = AuditLog(SQLiteDatabase(panel.data_dir / 'berth.sqlite3'))

    def entries() -> list[AuditEntry]:
        return [entry for entry in audit.entries(action='container.exec') if entry.target == container]

    await eventually(lambda: len(entries()) >= 4, 10, lambda: f'four audit entries, not {entries()}', interval=0.2)
    found = entries()
    assert {(entry.username, json.loads(entry.params)['command']) for entry in found} == {('admin', '/bin/sh')}
    results = sorted(entry.result.split(' after ')[0] for entry in found)
    assert results == ['ended: exit code 129', 'ended: exit code 129', 'started', 'started']


async def test_a_viewer_is_refused_a_terminal(panel: Panel, browser: Browser, make_container: MakeContainer) -> None:
    container = make_container(name=f'berth-e2e-{uuid.uuid4().hex[:10]}')
    username, password = f'viewer-{uuid.uuid4().hex[:6]}', secrets.token_urlsafe(12)
    database = SQLiteDatabase(panel.data_dir / 'berth.sqlite3')
    Accounts(database).create(username, password, 'viewer')
    page = await signed_in_page(browser, panel.base_url, username=username, password=password)
    await page.goto(f'/containers/{container}/terminal')
    refusal = 'is a viewer: open a terminal needs the operator role.'
    await expect(page.get_by_role('alert').filter(has_text=refusal)).to_be_visible(timeout=TIMEOUT_MS)
    await expect(page.locator('[data-berth-terminal]')).to_have_count(0)
    assert processes(container) == ['sleep 600']


async def test_input_is_refused_once_the_role_is_taken_away(
    panel: Panel, browser: Browser, make_container: MakeContainer
) -> None:
    # Given an operator with an open terminal
    container = make_container(name=f'berth-e2e-{uuid.uuid4().hex[:10]}')
    username, password = f'operator-{uuid.uuid4().hex[:6]}', secrets.token_urlsafe(12)
    database = SQLiteDatabase(panel.data_dir / 'berth.sqlite3')
    Accounts(database).create(username, password, 'operator')
    page = await signed_in_page(browser, panel.base_url, username=username, password=password)
    await page.goto(f'/containers/{container}/terminal')
    await page.locator('.xterm-rows').get_by_text('/ #').first.wait_for(timeout=TIMEOUT_MS)
    await page.locator('[data-berth-terminal]').click()
    await type_line(page, 'echo typed-$((1+1))')
    await shows_line(page, 'typed-2')
    # When they are made a viewer (here in the database, as another panel instance would), then once the sweep has
    # read it (within seconds) their keystrokes are dropped by the socket guard, the shell is ended and the page is
    # closed (a viewer lands on the home page, the dashboard)
    database.execute('UPDATE users SET role = ? WHERE username = ?', ('viewer', username))
    await type_line(page, 'sleep 1004')
    await wait_for_processes(container, ['sleep 600'])
    await page.wait_for_url(f'{panel.base_url}/', timeout=TIMEOUT_MS)


async def test_an_operator_is_refused_a_container_with_a_host_path(
    panel: Panel, browser: Browser, make_container: MakeContainer, tmp_path: Path
) -> None:
    container = make_container(name=f'berth-e2e-{uuid.uuid4().hex[:10]}', extra=['-v', f'{tmp_path}:/host'])
    username, password = f'operator-{uuid.uuid4().hex[:6]}', secrets.token_urlsafe(12)
    database = SQLiteDatabase(panel.data_dir / 'berth.sqlite3')
    Accounts(database).create(username, password, 'operator')
    page = await signed_in_page(browser, panel.base_url, username=username, password=password)
    await page.goto(f'/containers/{container}/terminal')
    refusal = f'A terminal in {container} needs the admin role: it has host paths mounted ({tmp_path}).'
    await expect(page.get_by_role('alert').filter(has_text=refusal)).to_be_visible(timeout=TIMEOUT_MS)
    assert processes(container) == ['sleep 600']
    entries = AuditLog(database).entries(username=username, action='container.exec')
    assert [entry.result for entry in entries] == [f'refused: {refusal[:1].lower()}{refusal[1:-1]}']


async def test_a_browser_that_stops_taking_output_is_paused_then_resumed(
    panel: Panel, browser: Browser, make_container: MakeContainer
) -> None:
    # Given a terminal whose page stops completing xterm writes, as a browser that cannot keep up
    container = make_container(name=f'berth-e2e-{uuid.uuid4().hex[:10]}')
    page = await open_terminal(browser, panel, container)
    await page.evaluate(
        '() => { const helper = window.berthTerminal; helper.realWrite = helper.write; '
        'helper.write = () => new Promise(() => {}); }'
    )
    # When a flood starts
    await page.locator('[data-berth-terminal]').click()
    await type_line(page, 'yes')
    # Then the status line says the output is paused, and the flood waits in the container
    await expect(page.get_by_role('status').filter(has_text=PAUSED)).to_be_visible(timeout=60_000)
    assert processes(container) == ['sleep 600', '/bin/sh', '/bin/sh']  # busybox's yes runs in a forked shell
    # When the page takes output again, the terminal says what it skipped, and the shell answers
    await page.evaluate("""() => { const helper = window.berthTerminal;
      helper.write = (id, data) => {
        window.skipped ||= data.includes('[output skipped]');
        return helper.realWrite(id, data);
      };
    }""")
    await page.wait_for_function('() => window.skipped', timeout=TIMEOUT_MS)  # scrolled away by the flood at once
    await expect(page.get_by_role('status').filter(has_text=f'/bin/sh in {container}')).to_be_visible(
        timeout=TIMEOUT_MS
    )
    await page.keyboard.press('Control+C')
    await type_line(page, 'echo resumed-$((4+4))')
    await shows_line(page, 'resumed-8')
