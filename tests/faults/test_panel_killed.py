"""The panel killed (SIGKILL) with a job running, one queued, one it never sent, and a terminal open, then started
again: each job gets its true outcome from the workers' ledger, and the shell it left in the container is hung up."""

from __future__ import annotations

import time
from collections.abc import Callable

from playwright.async_api import async_playwright

from core.jobs.reconcile import NEVER_QUEUED
from tests.support.browser import launch_chromium, signed_in_page
from tests.support.engine import OwnEngine
from tests.support.eventually import eventually
from tests.support.panel import Panel, kill_panel
from tests.support.redis_server import OwnRedis
from tests.support.worker import WorkerProcess

from .conftest import engine_events
from .harness import ChannelRecorder, SecondPanel, panel_jobs

TIMEOUT_MS = 30_000


def processes(engine: OwnEngine, container: str) -> list[str]:
    """What runs in the container (a zombie, shown as ``[name]``, has ended: PID 1 ``sleep`` never reaps it)."""
    listing = [line.strip() for line in engine.cli('exec', container, 'ps', '-o', 'args').splitlines()[1:]]
    return sorted(line for line in listing if line and not line.startswith(('ps ', '[')))


async def test_a_killed_panel_restarted_reconciles_its_jobs_and_hangs_up_the_shells_it_left(
    engine: OwnEngine,
    own_redis: OwnRedis,
    redis_panel: Panel,
    worker: WorkerProcess,
    container: Callable[..., tuple[str, str]],
) -> None:
    data = redis_panel.data_dir
    _, shell_in = container()
    slow_id, slow = container()
    other_id, other = container()
    recorder = ChannelRecorder(own_redis.url).start()
    queue = SecondPanel(own_redis.url, data)
    since = str(int(time.time()))
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        # Given a terminal open through the panel, running something
        page = await signed_in_page(browser, redis_panel.base_url)
        await page.goto(f'/containers/{shell_in}/terminal')
        await page.locator('.xterm-rows').get_by_text('/ #').first.wait_for(timeout=TIMEOUT_MS)
        await page.locator('[data-berth-terminal]').click()
        await page.keyboard.type('sleep 1003\n')
        await eventually(lambda: 'sleep 1003' in processes(engine, shell_in), 20, 'the shell runs sleep 1003')
        # ... a job running (a restart that waits 8 s), one queued behind it, one recorded but never sent
        running = queue.container_action('restart', slow_id, slow, {'timeout': 8})
        await eventually(lambda: recorder.of(running, 'running'), 30, lambda: f'running:\n{worker.log()}')
        queued = queue.container_action('restart', other_id, other, {'timeout': 1})
        unsent = queue.container_action('restart', other_id, other, {'timeout': 1}, send=False)
        await eventually(lambda: {queued, unsent} <= set(panel_jobs(data)), 10, 'the panel recorded both')

        # When the panel is killed
        kill_panel(redis_panel)
        await browser.close()
    # (the daemon keeps the shell running: nobody can type in it or close it any more)
    assert 'sleep 1003' in processes(engine, shell_in)
    # ... and the running job ends while no panel listens
    await eventually(lambda: engine_events(engine, slow_id, 'restart', since) == 1, 30, 'the restart done')

    # When the panel starts again on the same data
    redis_panel.start(timeout=60)

    # Then the shell it left is hung up, and every job has its true outcome; none is left running or queued
    await eventually(lambda: processes(engine, shell_in) == ['sleep 600'], 20, lambda: processes(engine, shell_in))

    def settled() -> bool:
        return all(row['status'] not in ('queued', 'running') for row in panel_jobs(data).values())

    await eventually(settled, 60, lambda: f'jobs settled: {panel_jobs(data)}\n{worker.log()}')
    rows = panel_jobs(data)
    assert (rows[running]['status'], rows[running]['message']) == ('succeeded', 'restarted'), rows[running]
    assert rows[queued]['status'] == 'succeeded', rows[queued]
    assert (rows[unsent]['status'], rows[unsent]['message']) == ('failed', NEVER_QUEUED)
    assert len(recorder.of(queued, 'running')) == 1
    assert engine_events(engine, slow_id, 'restart', since) == 1
    recorder.stop()
    queue.close()
