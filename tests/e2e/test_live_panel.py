"""The live panel in a real browser against the real engine: CLI changes show up, page actions reach the daemon."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import Callable

from playwright.async_api import Browser, Page, expect

from tests.support.browser import container_row, signed_in_page
from tests.support.panel import Panel

# `sleep` as PID 1 ignores SIGTERM; with SIGKILL as its stop signal, Stop ends it at once instead of after 10 s.
FAST_STOP = ['--stop-signal', 'KILL']
TIMEOUT_MS = 15_000
MakeContainer = Callable[..., str]


def unique_name() -> str:
    return f'berth-e2e-{uuid.uuid4().hex[:10]}'


def docker_state(name: str) -> str:
    result = subprocess.run(
        ['docker', 'inspect', '--format', '{{.State.Status}}', name], check=True, capture_output=True, text=True
    )
    return result.stdout.strip()


async def open_containers(browser: Browser, panel: Panel, only: str | None = None) -> Page:
    """A new signed-in session on /containers; with ``only``, the table's filter shows just that container."""
    page = await signed_in_page(browser, panel.base_url)
    if only is not None:
        await page.get_by_label('Filter containers').fill(only)
        await expect(
            page.locator('tbody tr').filter(has_not=page.get_by_role('link', name=only, exact=True))
        ).to_have_count(0, timeout=TIMEOUT_MS)
    # a page reload would drop this marker: checking it later proves the change arrived over the live socket
    await page.evaluate('window.berthE2eMarker = true')
    return page


async def assert_not_reloaded(page: Page) -> None:
    assert await page.evaluate('window.berthE2eMarker === true'), 'the page was reloaded'


async def test_container_started_with_cli_appears_in_open_page(
    panel: Panel, browser: Browser, make_container: MakeContainer
) -> None:
    name = unique_name()
    page = await open_containers(browser, panel, only=name)
    row = container_row(page, name)
    await expect(row).to_have_count(0)

    make_container(name=name, extra=FAST_STOP)

    await expect(row).to_have_count(1, timeout=TIMEOUT_MS)
    await expect(row.get_by_role('status')).to_have_text('running', timeout=TIMEOUT_MS)
    await assert_not_reloaded(page)


async def test_stop_in_page_stops_container_and_other_session_is_notified(
    panel: Panel, browser: Browser, make_container: MakeContainer
) -> None:
    name = make_container(name=unique_name(), extra=FAST_STOP)
    page = await open_containers(browser, panel, only=name)
    other = await open_containers(browser, panel)  # second browser context: its own cookie, its own session
    assert (await page.context.cookies()) != (await other.context.cookies())
    row = container_row(page, name)
    await expect(row.get_by_role('status')).to_have_text('running', timeout=TIMEOUT_MS)

    await row.get_by_role('button', name='Stop', exact=True).click()

    await expect(row.get_by_role('status')).to_have_text('exited', timeout=TIMEOUT_MS)
    assert docker_state(name) == 'exited'
    await expect(row.get_by_role('button', name='Start', exact=True)).to_be_visible()
    await expect(row.get_by_role('button', name='Stop', exact=True)).to_have_count(0)
    message = f'Stop {name}: stopped — asked by admin'
    for session in (other, page):
        await expect(session.locator('.q-notification').get_by_text(message, exact=True)).to_be_visible(
            timeout=TIMEOUT_MS
        )
    await assert_not_reloaded(other)


async def test_container_removed_with_cli_disappears_from_open_page(
    panel: Panel, browser: Browser, make_container: MakeContainer
) -> None:
    name = make_container(name=unique_name(), extra=FAST_STOP)
    keep = make_container(name=unique_name(), extra=FAST_STOP)
    page = await open_containers(browser, panel)
    await page.get_by_label('Filter containers').fill('berth-e2e-')
    row, kept = container_row(page, name), container_row(page, keep)
    await expect(row).to_have_count(1, timeout=TIMEOUT_MS)
    await expect(kept).to_have_count(1, timeout=TIMEOUT_MS)

    await asyncio.to_thread(subprocess.run, ['docker', 'rm', '--force', name], check=True, capture_output=True)

    await expect(row).to_have_count(0, timeout=TIMEOUT_MS)
    await expect(kept.get_by_role('status')).to_have_text('running')
    await assert_not_reloaded(page)
