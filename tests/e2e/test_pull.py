"""A pull in a real browser: live per-layer progress in the page that asked, the notification, the new table row."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator

import docker
import pytest
from playwright.async_api import Browser, expect

from tests.support.browser import signed_in_page
from tests.support.panel import Panel
from tests.support.registry import (
    LocalRegistry,
    ThrottledProxy,
    build_layered_image,
    push_and_forget,
    require_insecure_loopback,
)

TIMEOUT_MS = 30_000


@pytest.fixture(scope='module')
def slow_reference(docker_client: docker.DockerClient) -> Iterator[str]:
    """An image with three layers of its own, behind a proxy at 4 MB/s (a pull of about two seconds)."""
    require_insecure_loopback(docker_client)
    with LocalRegistry() as registry:
        local = f'berth-test/pull-build:{uuid.uuid4().hex[:8]}'
        build_layered_image(docker_client, local, [2, 3, 3])
        remote = push_and_forget(docker_client, local, registry.address, f'berth-e2e/pull:{uuid.uuid4().hex[:8]}')
        proxy = ThrottledProxy(registry.port, 4_000_000)
        reference = remote.replace(registry.address, proxy.address)
        yield reference
        proxy.close()
        subprocess.run(['docker', 'rmi', '-f', reference], check=False, capture_output=True)


async def test_pull_shows_live_layers_then_the_image(panel: Panel, browser: Browser, slow_reference: str) -> None:
    page = await signed_in_page(browser, panel.base_url, password=panel.password, path='/images')
    await page.get_by_label('Image reference').fill(slow_reference)
    await page.get_by_role('button', name='Pull', exact=True).click()
    # the page that asked shows the layers while they download, then 'succeeded'
    await expect(page.get_by_text('Downloading').first).to_be_visible(timeout=TIMEOUT_MS)
    await expect(page.get_by_label('Pull status')).to_have_text('succeeded', timeout=TIMEOUT_MS)
    await expect(page.get_by_text(f'Pull {slow_reference}: downloaded newer image')).to_be_visible()
    # the table has the new image (through the event stream), and the job page keeps the output
    await page.get_by_label('Filter images').fill(slow_reference.rsplit(':', 1)[1])
    await expect(page.get_by_role('link', name=slow_reference)).to_be_visible(timeout=TIMEOUT_MS)
    await page.get_by_role('link', name='Job page').click()
    await expect(page.get_by_text(': Pull complete').first).to_be_visible(timeout=TIMEOUT_MS)
