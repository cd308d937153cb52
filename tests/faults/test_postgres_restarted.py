"""PostgreSQL (the test's own: its own data directory and port, never the shared one) restarted under load — pages
loading in a loop, a job running and another asked for while it is down: the pages say the database cannot be reached
(a sentence, no traceback) and work again by themselves, both jobs run once and are recorded, their audit entries are
kept, nothing is left running; the panel is never restarted. The panel reads the host's engine (nothing is done to it
but a restart and a stop of two containers of this test's own)."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from playwright.async_api import Page, async_playwright, expect

from components.error_page import DATABASE_DOWN
from tests.support import BUSYBOX
from tests.support.browser import container_row, launch_chromium, signed_in_page
from tests.support.eventually import eventually
from tests.support.panel import Panel
from tests.support.postgres_server import OwnPostgres, started_postgres

PREFIX = 'berth-f2-pg-'
TIMEOUT_MS = 30_000
LOADED, DOWN = 'loaded', 'down'


@pytest.fixture
def postgres() -> Iterator[OwnPostgres]:
    with started_postgres() as server:
        yield server


@pytest.fixture
def panel(postgres: OwnPostgres) -> Iterator[Panel]:
    with Panel(env={'BERTH_DATABASE_URL': postgres.url}) as started:
        yield started


@pytest.fixture
def containers() -> Iterator[list[str]]:
    """Two busybox containers on the host's engine (``sleep`` ignores SIGTERM: a restart waits its 10 s timeout)."""
    names = [f'{PREFIX}{uuid.uuid4().hex[:8]}' for _ in range(2)]
    for name in names:
        subprocess.run(
            ['docker', 'run', '-d', '--name', name, '--network', 'none', BUSYBOX, 'sleep', '600'], check=True
        )
    yield names
    subprocess.run(['docker', 'rm', '-f', *names], capture_output=True)


async def test_postgresql_restarted_under_load(postgres: OwnPostgres, panel: Panel, containers: list[str]) -> None:
    slow, other = containers
    since = str(int(time.time()))
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        actions = await signed_in_page(browser, panel.base_url)
        reader = await signed_in_page(browser, panel.base_url, path='/jobs')
        loads = PageLoads(reader)
        try:
            # Given pages loading and a job running (a restart that waits 10 s for its container)
            await container_row(actions, slow).get_by_role('button', name='Restart', exact=True).click()
            await eventually(lambda: job_states(panel).get('container.restart') == 'running', 20, 'the restart running')
            await eventually(lambda: LOADED in loads.seen, 30, 'a page loaded')

            # When PostgreSQL stops (as a restart does: every session ended) while it runs
            postgres.stop()
            before = len(loads.seen)

            # Then a page that reads the database says so in a sentence, and a job asked for meanwhile still runs
            await eventually(lambda: DOWN in loads.seen[before:], 30, lambda: f'a page said so: {loads.seen}')
            await container_row(actions, other).get_by_role('button', name='Stop', exact=True).click()
            await eventually(lambda: container_state(other) == 'exited', 30, 'the stop done')

            # When PostgreSQL is back
            postgres.start()
            back = len(loads.seen)

            # Then pages load again by themselves, and both jobs are recorded as they ended, once each, with their
            # audit entries
            await eventually(lambda: LOADED in loads.seen[back:], 30, lambda: f'loaded again: {loads.seen[back:]}')
            await loads.stop()
            assert set(loads.seen) <= {LOADED, DOWN}, loads.seen

            def recorded() -> bool:
                return job_states(panel) == {'container.restart': 'succeeded', 'container.stop': 'succeeded'}

            await eventually(recorded, 40, lambda: f'both jobs recorded: {job_states(panel)}\n{postgres.log()[-2000:]}')
            audit = rows(panel, "SELECT action, result FROM audit WHERE action LIKE 'container.%'")
            for kind in ('container.restart', 'container.stop'):  # the request, and the end
                results = [row['result'] for row in audit if row['action'] == kind]
                assert len(results) == 2 and [result[:9] for result in results].count('succeeded') == 1, audit
            assert engine_events(slow, 'restart', since) == 1
            health = panel.health() or {}
            assert health.get('database', {}).get('ok'), health
            await actions.goto('/jobs')
            for name in (slow, other):
                row = actions.get_by_role('row').filter(has_text=name).filter(has_text='succeeded')
                await expect(row).to_have_count(1)

            # When PostgreSQL restarts between two page loads (the panel's connection dropped, nothing has noticed)
            postgres.stop()
            postgres.start()

            # Then the next page loads at once: the dropped connection is replaced, not reported
            await reader.goto('/admin/users')
            await expect(reader.get_by_role('cell', name='admin', exact=True).first).to_be_visible()
        finally:
            await loads.stop()
            await browser.close()


class PageLoads:
    """Loads the users page (it reads the database) again and again until stopped: each load is ``LOADED`` (the admin
    account is listed), ``DOWN`` (the sentence), or the end of what else the page said."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.seen: list[str] = []
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._load())

    async def stop(self) -> None:
        self._stop.set()
        await self._task

    async def _load(self) -> None:
        while not self._stop.is_set():
            await self.page.goto('/admin/users')
            if await self.page.get_by_role('alert').filter(has_text=DATABASE_DOWN).count():
                self.seen.append(DOWN)
            elif await self.page.get_by_role('cell', name='admin', exact=True).count():
                self.seen.append(LOADED)
            else:
                self.seen.append((await self.page.inner_text('body'))[-500:])
            await asyncio.sleep(0.2)


def rows(panel: Panel, sql: str) -> list[dict[str, Any]]:
    url = panel.extra_env['BERTH_DATABASE_URL']
    with psycopg.connect(url, autocommit=True, row_factory=psycopg.rows.dict_row, connect_timeout=5) as connection:
        return list(connection.execute(sql.encode()).fetchall())


def job_states(panel: Panel) -> dict[str, str]:
    """Kind → status of the jobs in PostgreSQL (the test asks for one job of each kind)."""
    try:
        return {row['kind']: row['status'] for row in rows(panel, 'SELECT kind, status FROM jobs')}
    except psycopg.OperationalError:
        return {}


def container_state(name: str) -> str:
    return subprocess.run(
        ['docker', 'inspect', '-f', '{{.State.Status}}', name], capture_output=True, text=True
    ).stdout.strip()


def engine_events(name: str, event: str, since: str) -> int:
    out = subprocess.run(
        ['docker', 'events', '--since', since, '--until', '0s', '--filter', f'container={name}',
         '--filter', f'event={event}', '--format', '{{.Status}}'],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return len(out.split())
