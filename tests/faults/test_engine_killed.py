"""The Docker engine (the test's own) killed mid-job, mid-terminal and mid-log-follow, then started again: the job
fails with a sentence, the terminal and the log view say the engine went away and offer to reconnect, the state
resyncs, and the panel serves throughout (it is never restarted)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.async_api import Page, async_playwright, expect

from core.streams.engine_gone import ENGINE_GONE
from tests.support.browser import container_row, launch_chromium, signed_in_page
from tests.support.engine import OwnEngine
from tests.support.eventually import eventually
from tests.support.panel import Panel

from .conftest import engine_back, kill_engine
from .harness import panel_jobs

TIMEOUT_MS = 30_000
TICK_3 = re.compile(r'tick 3$')
TICKER = 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.2; done'


@pytest.fixture
def panel(engine: OwnEngine) -> Iterator[Panel]:
    """The embedded panel (its own worker threads) on the test's engine."""
    with Panel(env={'DOCKER_HOST': engine.url}) as started:
        yield started


async def test_the_engine_killed_mid_job_terminal_and_log_follow_then_back(
    engine: OwnEngine, panel: Panel, container: Callable[..., tuple[str, str]]
) -> None:
    _, ticker = container('sh', '-c', TICKER)
    _, shell_in = container()
    _, slow = container()
    with engine_back(engine):  # the containers of the test go through it at the end
        async with async_playwright() as playwright:
            browser = await launch_chromium(playwright)
            # Given a log view following, a terminal open, and a stop running (sleep ignores SIGTERM: it waits 10 s)
            logs = await signed_in_page(browser, panel.base_url)
            await logs.goto(f'/containers/{ticker}/logs')
            await expect(logs.get_by_role('log').get_by_text(TICK_3)).to_be_visible(timeout=TIMEOUT_MS)
            terminal = await logs.context.new_page()
            await terminal.goto(f'/containers/{shell_in}/terminal')
            await terminal.locator('.xterm-rows').get_by_text('/ #').first.wait_for(timeout=TIMEOUT_MS)
            actions = await logs.context.new_page()
            await actions.goto('/containers')
            await container_row(actions, slow).get_by_role('button', name='Stop', exact=True).click()
            await eventually(lambda: any(row['status'] == 'running' for row in panel_jobs(panel.data_dir).values()), 20)

            # When the engine is killed
            kill_engine(engine)

            # Then the job fails with a sentence, and each stream says the engine went away and offers to reconnect
            def job() -> dict[str, object]:
                return next(iter(panel_jobs(panel.data_dir).values()))

            await eventually(lambda: job()['status'] == 'failed', 30, lambda: f'the stop failed: {job()}')
            assert job()['message'] == 'Docker engine unreachable'
            await expect(terminal.get_by_role('status').filter(has_text=ENGINE_GONE)).to_be_visible(timeout=TIMEOUT_MS)
            await expect(terminal.get_by_role('button', name='Reconnect')).to_be_visible()
            await expect(logs.get_by_role('log').get_by_text(ENGINE_GONE)).to_be_visible(timeout=TIMEOUT_MS)
            for page in (logs, terminal, actions):
                await expect(page.get_by_role('alert').filter(has_text='unreachable').first).to_be_visible()

            # When the engine comes back (it stopped the containers: no live restore) and they are started again
            engine.start()
            engine.cli('start', ticker, shell_in)

            # Then the state resyncs by itself, the log view follows again, and Reconnect opens a new shell
            await expect(container_row(actions, ticker).get_by_role('status')).to_have_text(
                'running', timeout=TIMEOUT_MS
            )
            await expect(container_row(actions, slow).get_by_role('status')).to_have_text('exited', timeout=TIMEOUT_MS)
            await expect(logs.get_by_role('log').get_by_text(TICK_3)).to_have_count(2, timeout=TIMEOUT_MS)
            await terminal.get_by_role('button', name='Reconnect').click()
            await connected(terminal)
            assert not [row for row in panel_jobs(panel.data_dir).values() if row['status'] in ('queued', 'running')]
            await browser.close()


async def connected(page: Page) -> None:
    await page.locator('[data-berth-terminal]').click()
    await page.keyboard.type('echo back-$((6*7))\n')
    await expect(page.locator('.xterm-rows').get_by_text('back-42', exact=True)).to_be_visible(timeout=TIMEOUT_MS)
