"""The Stats tab in a real browser: a busy container's figures change live, and the charts are drawn."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, expect

from tests.support.browser import signed_in_page
from tests.support.busy import busy_container
from tests.support.panel import Panel

TIMEOUT_MS = 20_000
CPU = re.compile(r'^CPU \d+\.\d %$')
DRAWN = 'getElement(element).chart.getOption().series[0].data.length'  # points of the CPU line, as drawn


@pytest.fixture
def busy() -> Iterator[str]:
    with busy_container(f'bt-stats-e2e-{uuid.uuid4().hex[:8]}') as name:
        yield name


async def test_the_stats_tab_of_a_busy_container_shows_changing_figures(
    panel: Panel, browser: Browser, busy: str
) -> None:
    page = await signed_in_page(browser, panel.base_url, password=panel.password)
    await page.goto(f'/containers/{busy}')
    await page.get_by_role('tab', name='Stats').click()
    # The CPU figure shows up, and changes while the page stays open
    cpu = page.get_by_text(CPU)
    await expect(cpu).to_be_visible(timeout=TIMEOUT_MS)
    first = await cpu.inner_text()
    await expect(cpu).not_to_have_text(first, timeout=TIMEOUT_MS)
    await expect(cpu).to_have_text(CPU)
    # And the chart is drawn (ECharts paints on a canvas in the chart's element) and grows, one point a second
    chart = page.get_by_role('img', name='CPU over the last 5 minutes')
    await expect(chart.locator('canvas')).to_have_count(1, timeout=TIMEOUT_MS)
    assert (await chart.bounding_box() or {}).get('height', 0) > 100
    drawn = await chart.evaluate(f'(element) => {DRAWN}')
    more = f'([element, drawn]) => {DRAWN} > drawn'
    await page.wait_for_function(more, arg=[await chart.element_handle(), drawn], timeout=TIMEOUT_MS)
    await page.context.close()
