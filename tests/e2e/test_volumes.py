"""/volumes in Chromium against the running panel and the real engine: a volume made with the CLI appears without a
reload; removing one in use is refused with the container named; the prune preview lists exactly what then goes."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.async_api import Browser, Page, expect

from tests.support import BUSYBOX
from tests.support.browser import container_row, signed_in_page
from tests.support.panel import Panel

from .test_live_panel import assert_not_reloaded

TIMEOUT_MS = 15_000


def docker_cli(*arguments: str) -> str:
    return subprocess.run(['docker', *arguments], check=True, capture_output=True, text=True).stdout.strip()


def volumes_now() -> set[str]:
    return set(docker_cli('volume', 'ls', '-q').split())


@pytest.fixture
def made() -> Iterator[list[str]]:
    """Volumes (named ``bt-vol-…``, or anonymous) and containers the test made; removed afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        subprocess.run(['docker', 'rm', '-f', '-v', name], capture_output=True, check=False)
    for name in names:
        subprocess.run(['docker', 'volume', 'rm', '-f', name], capture_output=True, check=False)


def unique(what: str) -> str:
    return f'bt-vol-{what}-{uuid.uuid4().hex[:8]}'


async def open_volumes(browser: Browser, panel: Panel, only: str = '') -> Page:
    page = await signed_in_page(browser, panel.base_url, path='/volumes')
    # sizes come after the table (and re-render it): from here on, what changes the table is the live state
    await expect(page.get_by_text('Sizes as of')).to_be_visible(timeout=TIMEOUT_MS)
    if only:
        await page.get_by_label('Filter volumes').fill(only)
    await page.evaluate('window.berthE2eMarker = true')  # a reload would drop it
    return page


async def test_a_volume_created_with_the_cli_appears_without_a_reload(
    panel: Panel, browser: Browser, made: list[str]
) -> None:
    name = unique('cli')
    page = await open_volumes(browser, panel, only=name)
    row = container_row(page, name)  # the row whose name link is exactly ``name``
    await expect(row).to_have_count(0)
    made.append(name)
    await asyncio.to_thread(docker_cli, 'volume', 'create', '--label', 'team=<i>ops</i>', name)
    await expect(row).to_have_count(1, timeout=TIMEOUT_MS)
    await expect(row.get_by_text('team=<i>ops</i>', exact=True)).to_be_visible()  # text, never HTML
    await expect(row.get_by_text('unused', exact=True)).to_be_visible()
    await assert_not_reloaded(page)


async def test_removing_a_volume_in_use_is_refused_naming_the_container(
    panel: Panel, browser: Browser, made: list[str], make_container: Callable[..., str]
) -> None:
    name, container = unique('used'), unique('user')
    made.append(name)
    docker_cli('volume', 'create', name)
    make_container(name=container, extra=['-v', f'{name}:/data'])
    page = await open_volumes(browser, panel, only=name)
    row = container_row(page, name)
    await expect(row.get_by_role('link', name=container, exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    # When the admin removes it without forcing
    await row.get_by_role('button', name='Remove', exact=True).click()
    dialog = page.get_by_role('dialog', name='Remove volume')
    await expect(dialog.get_by_text(f'In use by {container} (running)', exact=False)).to_be_visible()
    await dialog.get_by_role('button', name='Confirm remove').click()
    # Then the panel says no, naming the container, and the engine still has the volume
    refusal = f'Volume {name} is in use by {container}: remove it first, or force the removal (which removes it).'
    await expect(page.locator('.q-notification').get_by_text(refusal, exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    assert name in volumes_now()


async def test_the_prune_preview_lists_exactly_what_then_goes(
    panel: Panel, browser: Browser, made: list[str], make_container: Callable[..., str]
) -> None:
    # Given an unused anonymous volume, an unused named one, and an anonymous one in use
    maker = unique('maker')
    docker_cli('create', '--name', maker, '--label', 'berth-test=1', '-v', '/data', BUSYBOX, 'true')
    anonymous = docker_cli('inspect', '--format', '{{range .Mounts}}{{.Name}}{{end}}', maker)
    made.append(anonymous)
    docker_cli('rm', maker)  # its volume stays, unused
    named = unique('named')
    made.append(named)
    docker_cli('volume', 'create', named)
    holder = make_container(name=unique('holder'), extra=['-v', '/data'])
    in_use = docker_cli('inspect', '--format', '{{range .Mounts}}{{.Name}}{{end}}', holder)
    page = await open_volumes(browser, panel)
    await expect(container_row(page, anonymous)).to_have_count(1, timeout=TIMEOUT_MS)
    await expect(container_row(page, in_use)).to_have_count(1, timeout=TIMEOUT_MS)
    # When the admin opens the prune preview (unused anonymous volumes, the default)
    await page.get_by_role('button', name='Prune volumes').click()
    dialog = page.get_by_role('dialog', name='Prune volumes')
    items = dialog.get_by_role('list', name='Volumes to remove').get_by_role('listitem')
    await expect(items.filter(has_text=anonymous)).to_have_count(1, timeout=TIMEOUT_MS)
    listed = set(await items.locator('.font-mono').all_inner_texts())
    # Then it lists ours, and neither the named one nor the one in use
    assert anonymous in listed and not {named, in_use} & listed
    # When the admin unticks every other volume (this engine's own, not the test's) and confirms
    for other in sorted(listed - {anonymous}):
        await dialog.get_by_role('checkbox', name=f'Remove {other}').click()
    await expect(dialog.get_by_role('button', name='Confirm prune')).to_have_text('Remove 1')
    await dialog.get_by_role('button', name='Confirm prune').click()
    notice = page.locator('.q-notification').get_by_text('Prune unused anonymous volumes: removed ', exact=False)
    await expect(notice).to_be_visible(timeout=TIMEOUT_MS)
    # Then exactly the ticked volume goes, and the unticked ones stay
    remaining = volumes_now()
    assert anonymous not in remaining
    assert {named, in_use} | (listed - {anonymous}) <= remaining
    await expect(container_row(page, anonymous)).to_have_count(0, timeout=TIMEOUT_MS)
    await assert_not_reloaded(page)
