"""Redis killed (SIGKILL) while a job runs, one waits on the queue and the panel listens on pub/sub, then started again
on its append-only file: the page says the job queue is unreachable, the bus reconnects by itself, the job queued before
the kill runs once after it, and what the running job said during the outage reaches the job centre."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from playwright.async_api import async_playwright, expect

from core.jobs.queue_status import UNREACHABLE
from core.jobs.reconcile import LOST
from tests.support.browser import launch_chromium, signed_in_page
from tests.support.engine import OwnEngine
from tests.support.eventually import eventually
from tests.support.panel import Panel
from tests.support.redis_server import OwnRedis
from tests.support.worker import WorkerProcess

from .conftest import engine_events
from .harness import ChannelRecorder, SecondPanel, panel_jobs

TIMEOUT_MS = 30_000


def persisted(redis_dir: Path, job_id: str) -> bool:
    """Is the job's message in Redis's append-only file (what survives a SIGKILL)?"""
    return any(job_id.encode() in path.read_bytes() for path in redis_dir.glob('appendonlydir/*.aof'))


async def test_redis_killed_mid_job_then_back_loses_nothing_and_runs_nothing_twice(
    engine: OwnEngine,
    own_redis: OwnRedis,
    redis_panel: Panel,
    worker: WorkerProcess,
    container: Callable[..., tuple[str, str]],
) -> None:
    data = redis_panel.data_dir
    slow_id, slow = container()
    waiting_id, waiting = container()
    recorder = ChannelRecorder(own_redis.url).start()
    queue = SecondPanel(own_redis.url, data)
    since = str(int(time.time()))
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        page = await signed_in_page(browser, redis_panel.base_url, path='/jobs')
        banner = page.get_by_role('alert').filter(has_text=UNREACHABLE)
        await expect(banner).to_have_count(0)

        # Given a job running (a restart that waits 6 s for its container) and one queued behind it (one worker thread)
        running = queue.container_action('restart', slow_id, slow, {'timeout': 6})
        await eventually(lambda: recorder.of(running, 'running'), 30, lambda: f'running:\n{worker.log()}')
        queued = queue.container_action('restart', waiting_id, waiting, {'timeout': 1})
        await eventually(lambda: persisted(own_redis.root, queued), 10, 'the queued job in the append-only file')

        # When Redis is killed
        own_redis.kill()

        # Then every page says the job queue cannot be reached
        await expect(banner).to_be_visible(timeout=TIMEOUT_MS)
        # ... while the running job ends on the engine, its worker unable to say so
        await eventually(lambda: engine_events(engine, slow_id, 'restart', since) == 1, 30, 'the restart done')

        # When Redis comes back
        own_redis.start()

        # Then the banner goes by itself (the bus reconnected), the job that ended meanwhile is right in the job centre,
        # and the job queued before the kill runs, once
        await expect(banner).to_have_count(0, timeout=TIMEOUT_MS)

        def finished() -> bool:
            rows = panel_jobs(data)
            return all(job in rows and rows[job]['status'] in ('succeeded', 'failed') for job in (running, queued))

        await eventually(finished, 60, lambda: f'both jobs ended: {panel_jobs(data)}\n{worker.log()}')
        rows = panel_jobs(data)
        assert (rows[running]['status'], rows[running]['message']) == ('succeeded', 'restarted'), rows[running]
        assert rows[running]['message'] != LOST
        assert rows[queued]['status'] == 'succeeded', rows[queued]
        assert len(recorder.of(queued, 'running')) == 1
        await eventually(lambda: engine_events(engine, waiting_id, 'restart', since) == 1, 5, 'one restart (events)')
        assert engine_events(engine, slow_id, 'restart', since) == 1
        assert not [row for row in panel_jobs(data).values() if row['status'] in ('queued', 'running')]
        # the job centre says so too
        await page.reload()
        await expect(page.get_by_role('row').filter(has_text=slow).filter(has_text='succeeded')).to_be_visible()
        await browser.close()
    recorder.stop()
    queue.close()
