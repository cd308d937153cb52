"""The dashboard in Chromium against the real engine: its counts are the CLI's, and follow the CLI without a reload."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.async_api import Browser, Page

from tests.support.panel import ADMIN_PASSWORD, Panel

TIMEOUT_S = 20
KINDS = ('containers', 'running', 'images', 'volumes', 'networks')


def cli_counts() -> dict[str, int]:
    """What the docker CLI counts: every container, the running ones, images (by id), volumes, networks."""

    def count(*arguments: str) -> int:
        output = subprocess.run(['docker', *arguments], check=True, capture_output=True, text=True).stdout
        return len(set(output.split()))

    return {
        'containers': count('ps', '-aq'),
        'running': count('ps', '-q', '--filter', 'status=running'),
        'images': count('images', '-q'),
        'volumes': count('volume', 'ls', '-q'),
        'networks': count('network', 'ls', '-q'),
    }


async def shown_counts(page: Page) -> dict[str, int]:
    async def number(selector: str) -> int:
        return int((await page.locator(selector).inner_text()).split()[0])

    shown = {kind: await number(f'[data-count="{kind}"]') for kind in KINDS if kind != 'running'}
    return {**shown, 'running': await number('[data-count="container-states"]')}


async def counts_match_the_cli(page: Page) -> dict[str, int]:
    """Waits until the page shows the CLI's counts (read again each time: other tests may change the engine)."""
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        shown, cli = await shown_counts(page), await asyncio.to_thread(cli_counts)
        if shown == cli:
            return shown
        if time.monotonic() > deadline:
            raise AssertionError(f'the dashboard shows {shown}, the CLI counts {cli}')
        await asyncio.sleep(0.2)


@pytest.fixture
def volume_name() -> Iterator[str]:
    name = f'bt-dash-e2e-{uuid.uuid4().hex[:8]}'
    yield name
    subprocess.run(['docker', 'volume', 'rm', '-f', name], capture_output=True)


async def test_the_dashboards_counts_are_the_clis_and_follow_it(
    panel: Panel, browser: Browser, make_container: Callable[..., str], volume_name: str
) -> None:
    # Given an admin who signs in: the dashboard is the home page
    context = await browser.new_context(base_url=panel.base_url, viewport={'width': 1600, 'height': 1000})
    page = await context.new_page()
    await page.goto('/login')
    await page.get_by_label('Username').fill('admin')
    await page.get_by_label('Password', exact=True).fill(ADMIN_PASSWORD)
    await page.get_by_role('button', name='Sign in').click()
    await page.wait_for_url(f'{panel.base_url}/')
    # Then its counts are those of docker ps -a, docker images, docker volume ls and docker network ls
    before = await counts_match_the_cli(page)
    await page.evaluate('window.berthE2eMarker = true')  # a reload would drop it
    # When a volume is created and a container started with the CLI
    await asyncio.to_thread(
        subprocess.run, ['docker', 'volume', 'create', volume_name], check=True, capture_output=True
    )
    await asyncio.to_thread(make_container, name=f'bt-dash-e2e-{uuid.uuid4().hex[:8]}')
    # Then the open page follows, without a reload
    after = await counts_match_the_cli(page)
    assert after != before  # (others may have changed the engine too, but these two did change it)
    assert await page.evaluate('window.berthE2eMarker === true'), 'the page was reloaded'
    await context.close()
