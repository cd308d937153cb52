"""Live logs in a real browser: lines arrive as text, Stop following stops them, closing the tab ends the stream."""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import Callable

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.support.browser import signed_in_page
from tests.support.counting_proxy import CountingProxy
from tests.support.eventually import eventually
from tests.support.panel import Panel

TIMEOUT_MS = 15_000


def printed(name: str) -> int:
    """How many lines the container has printed so far (per ``docker logs``)."""
    return subprocess.run(['docker', 'logs', name], capture_output=True, check=True).stdout.count(b'\n')


async def test_live_lines_stop_resume_and_closing_the_tab(
    proxied_panel: tuple[Panel, CountingProxy], browser: Browser, ticker: str
) -> None:
    panel, streams = proxied_panel
    page = await signed_in_page(browser, panel.base_url, password=panel.password)
    assert streams.live == 0
    alerts: list[str] = []
    page.on('dialog', lambda dialog: alerts.append(dialog.message))
    await page.goto(f'/containers/{ticker}/logs')
    log = page.get_by_role('log')

    # Lines printed after the page opened show up live, as text
    first = printed(ticker) + 5
    await expect(log.get_by_text(re.compile(rf'tick {first} <img src=x onerror=alert\(1\)>$'))).to_be_visible(
        timeout=TIMEOUT_MS
    )
    assert await log.locator('img').count() == 0 and not alerts
    assert streams.live == 1

    # Stop following: nothing more arrives although the container goes on printing
    await page.get_by_role('button', name='Stop following').click()
    await expect(page.get_by_role('button', name='Resume following')).to_be_visible()
    await page.wait_for_timeout(500)  # lines already on their way may still land
    await eventually(lambda: streams.live == 0, 20, 'the stream to close')
    shown = await log.locator('.berth-chunk > div').count()
    stopped_at = printed(ticker)
    await page.wait_for_timeout(1500)
    assert printed(ticker) >= stopped_at + 10
    assert await log.locator('.berth-chunk > div').count() == shown

    # Resume: what was printed meanwhile is caught up, and it is live again
    await page.get_by_role('button', name='Resume following').click()
    later = printed(ticker) + 3
    await expect(log.get_by_text(re.compile(rf'tick {stopped_at + 5} '))).to_have_count(1, timeout=TIMEOUT_MS)
    await expect(log.get_by_text(re.compile(rf'tick {later} '))).to_be_visible(timeout=TIMEOUT_MS)

    # Closing the tab ends its stream (once NiceGUI gives the tab up: reconnect timeout 5 s)
    assert streams.live == 1
    await page.context.close()
    await eventually(
        lambda: streams.live == 0, 20, lambda: f'no log stream open, not {streams.live}:\n{panel.log()[-3000:]}'
    )


BANGS = (
    'i=0; while true; do printf "%030d\\n" $i; i=$((i+1)); [ $((i % 50)) = 0 ] && echo "line $i done!"; '
    'sleep 0.01; done'
)


@pytest.fixture
def chatty(script_container: Callable[[str], str]) -> str:
    """A container printing 30-character lines a hundred times a second; every 50th line ends with '!'."""
    return script_container(BANGS)


async def test_a_catastrophic_regex_does_not_freeze_the_panel_for_others(
    proxied_panel: tuple[Panel, CountingProxy], browser: Browser, chatty: str
) -> None:
    panel, _ = proxied_panel
    page = await signed_in_page(browser, panel.base_url, password=panel.password)
    await page.goto(f'/containers/{chatty}/logs')
    log = page.get_by_role('log')
    await expect(log.get_by_text(re.compile(r'line \d+ done!$')).first).to_be_visible(timeout=TIMEOUT_MS)
    # When one viewer filters a chatty container with a pattern that backtracks exponentially in Python's re
    await page.get_by_role('checkbox', name='Regex').click()
    await page.get_by_label('Filter log lines').fill('(.*.*)*!')
    await page.wait_for_timeout(1000)  # the filter box waits 250 ms before it sends
    # Then other clients are answered meanwhile: the health check and another person's page
    async with httpx.AsyncClient(base_url=panel.base_url, timeout=10) as client:
        for _ in range(5):
            assert (await client.get('/healthz')).status_code == 200
            await asyncio.sleep(0.2)
    other = await signed_in_page(browser, panel.base_url, password=panel.password)
    await expect(other.get_by_role('link', name=chatty, exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    await other.context.close()
    # And the filter works: only the lines with '!' are left, and new ones keep coming
    await expect(log.get_by_text(re.compile(r'\d{30}$'))).to_have_count(0, timeout=TIMEOUT_MS)
    shown = await log.get_by_text(re.compile(r'line \d+ done!$')).count()
    assert shown > 0
    await expect(log.get_by_text(re.compile(r'line \d+ done!$'))).not_to_have_count(shown, timeout=TIMEOUT_MS)
    await page.context.close()
