"""The data directory's disk full (a small tmpfs of the test's own as BERTH_DATA_DIR: the SQLite database, the stacks'
files, NiceGUI's storage and the keys live there): a job still runs and the page says its record waits in memory, a
stack save and a new account are refused with a sentence, never a traceback; when space returns the records are written,
the database is whole, and the same actions work — the panel is never restarted. The panel reads the host's engine
(nothing is done to it but a stop of one container of this test's own and a one-service stack)."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect

from components.database_banner import sentence
from components.error_page import NOT_SAVED
from tests.support import BUSYBOX
from tests.support.browser import container_row, launch_chromium, signed_in_page
from tests.support.eventually import eventually
from tests.support.panel import Panel

from .harness import panel_jobs

PREFIX = 'berth-f2-disk-'
TIMEOUT_MS = 30_000
DISK_FULL = 'database or disk is full'  # SQLite's words
COMPOSE = 'services:\n  app:\n    image: berth-test/busybox:latest\n    command: ["sleep", "600"]\n'


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 32 MB tmpfs, unmounted afterwards."""
    mount = Path(tempfile.mkdtemp(prefix=PREFIX))
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=32m', 'berth-f2-disk', str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(['umount', '-l', str(mount)], capture_output=True)
        mount.rmdir()


@pytest.fixture
def panel(small_disk: Path) -> Iterator[Panel]:
    panel = Panel(env={'BERTH_DATA_DIR': str(small_disk / 'data')})
    panel.data_dir = small_disk / 'data'
    with panel:
        yield panel


@pytest.fixture
def names() -> Iterator[tuple[str, str]]:
    """A busybox container on the host's engine, and a stack name; both gone afterwards."""
    container, stack = f'{PREFIX}{uuid.uuid4().hex[:8]}', f'{PREFIX}{uuid.uuid4().hex[:8]}'
    subprocess.run(
        ['docker', 'run', '-d', '--name', container, '--network', 'none', BUSYBOX, 'sleep', '600'],
        check=True,
        capture_output=True,
    )
    yield container, stack
    subprocess.run(
        ['sh', '-c', f'docker ps -aq --filter name={container} --filter name={stack} | xargs -r docker rm -f'],
        capture_output=True,
    )


async def test_a_full_data_disk_is_a_sentence_and_recovers(
    small_disk: Path, panel: Panel, names: tuple[str, str]
) -> None:
    container, stack = names
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        page = await signed_in_page(browser, panel.base_url)
        banner = page.get_by_role('alert').filter(has_text=sentence(DISK_FULL))

        # Given the data directory's disk full
        filler = fill(small_disk)

        # When a job is asked for: it runs, and the page says its record waits in memory
        await container_row(page, container).get_by_role('button', name='Stop', exact=True).click()
        await expect(container_row(page, container).get_by_role('status')).to_have_text('exited', timeout=TIMEOUT_MS)
        await expect(banner).to_be_visible(timeout=TIMEOUT_MS)

        # When a stack is saved (with its deploy), and an account created: each is refused with a sentence
        await deploy(page, stack)
        await expect(page.get_by_text(f'Could not save {stack}: No space left on device.').first).to_be_visible()
        await create_account(page, 'berthf2first')
        await expect(page.get_by_text(NOT_SAVED).first).to_be_visible(timeout=TIMEOUT_MS)
        assert 'Traceback' not in await page.inner_text('body')

        # When space returns
        filler.unlink()

        # Then the banner goes by itself, the job's record is written, and the database is whole
        await expect(banner).to_have_count(0, timeout=TIMEOUT_MS)
        jobs = panel_jobs(panel.data_dir)
        assert [(row['kind'], row['status']) for row in jobs.values()] == [('container.stop', 'succeeded')], jobs
        assert integrity(panel.data_dir) == 'ok'

        # And the same actions work
        await create_account(page, 'berthf2again')
        await expect(page.get_by_role('cell', name='berthf2again', exact=True)).to_be_visible(timeout=TIMEOUT_MS)
        await deploy(page, stack)
        await expect(page.get_by_label('Action status')).to_have_text('succeeded', timeout=TIMEOUT_MS)
        await eventually(lambda: len(panel_jobs(panel.data_dir)) == 2, 10, 'the deploy recorded')
        rows = panel_jobs(panel.data_dir).values()
        assert sorted(row['status'] for row in rows) == ['succeeded', 'succeeded'], rows
        assert integrity(panel.data_dir) == 'ok'
        await browser.close()


def fill(mount: Path) -> Path:
    """Fills the disk to its last byte; returns the file that does."""
    filler = mount / 'filler'
    with filler.open('wb', buffering=0) as file:
        for size in (1 << 20, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    file.write(b'\0' * size)
    return filler


async def deploy(page: Page, stack: str) -> None:
    await page.goto(f'/stacks/{stack}')
    await page.locator('[aria-label="compose.yaml"] .cm-content').fill(COMPOSE)
    await page.get_by_role('button', name='Deploy', exact=True).click()


async def create_account(page: Page, username: str) -> None:
    await page.goto('/admin/users')
    await page.get_by_label('New username').fill(username)
    await page.get_by_role('button', name='Create user').click()


def integrity(data_dir: Path) -> str:
    path = data_dir / 'berth.sqlite3'
    with contextlib.closing(sqlite3.connect(f'file:{path}?mode=ro', uri=True, timeout=5)) as connection:
        return str(connection.execute('PRAGMA integrity_check').fetchone()[0])
