"""A stack deployed in a real browser: the deployment log is live in another person's page watching the stack
(pulling with a bar per layer, then each service's steps), and the job page keeps it."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator

import docker
import pytest
from playwright.async_api import Browser, expect

from core.stacks.compose import find_compose
from tests.support import BUSYBOX
from tests.support.browser import signed_in_page
from tests.support.panel import Panel
from tests.support.registry import (
    LocalRegistry,
    ThrottledProxy,
    build_layered_image,
    push_and_forget,
    require_insecure_loopback,
)

TIMEOUT_MS = 60_000


@pytest.fixture
def slow_image(docker_client: docker.DockerClient) -> Iterator[str]:
    """An image with layers of its own behind a proxy at 4 MB/s, so the pull can be watched."""
    require_insecure_loopback(docker_client)
    with LocalRegistry() as registry:
        local = f'berth-test/stack-build:{uuid.uuid4().hex[:8]}'
        build_layered_image(docker_client, local, [3, 3])
        remote = push_and_forget(docker_client, local, registry.address, f'berth-e2e/stack:{uuid.uuid4().hex[:8]}')
        proxy = ThrottledProxy(registry.port, 4_000_000)
        reference = remote.replace(registry.address, proxy.address)
        yield reference
        proxy.close()
        subprocess.run(['docker', 'rmi', '-f', reference], check=False, capture_output=True)


@pytest.fixture
def project() -> Iterator[str]:
    name = f'bst-e2e-{uuid.uuid4().hex[:8]}'
    yield name
    compose = str(find_compose().path)
    subprocess.run([compose, '-p', name, 'down', '--remove-orphans'], check=False, capture_output=True)


async def test_the_deployment_log_is_live_for_everyone_watching(
    panel: Panel, browser: Browser, slow_image: str, project: str
) -> None:
    compose = (
        f'services:\n  app:\n    image: {slow_image}\n    command: ["sleep", "600"]\n'
        f'  side:\n    image: {BUSYBOX}\n    command: ["sleep", "600"]\n'
    )
    # Given two people with the new stack's page open
    deployer = await signed_in_page(browser, panel.base_url, password=panel.password, path='/stacks')
    watcher = await signed_in_page(browser, panel.base_url, password=panel.password, path='/stacks')
    for page in (deployer, watcher):
        await page.goto(f'/stacks/{project}')
        await page.locator('[aria-label="compose.yaml"] .cm-content').wait_for()
    # When one of them writes the file and deploys it
    await deployer.locator('[aria-label="compose.yaml"] .cm-content').fill(compose)
    await deployer.get_by_role('button', name='Deploy', exact=True).click()
    # Then the other sees the image pulled layer by layer, then each service's steps, live
    await expect(watcher.get_by_text('Downloading').first).to_be_visible(timeout=TIMEOUT_MS)
    await expect(watcher.get_by_role('progressbar', name='Overall progress').first).to_be_visible()
    await expect(watcher.get_by_label('Action status')).to_have_text('succeeded', timeout=TIMEOUT_MS)
    await expect(watcher.get_by_label('State of app')).to_have_text('Started')
    await expect(watcher.get_by_text('Pulling → Pulled → Creating → Created → Starting → Started')).to_be_visible()
    await expect(watcher.get_by_label('Status', exact=True)).to_have_text('running 2 of 2', timeout=TIMEOUT_MS)
    # And the job page keeps the deployment log
    await watcher.get_by_role('link', name='Job page').click()
    await expect(watcher.get_by_text('app: Pulled').first).to_be_visible(timeout=TIMEOUT_MS)
