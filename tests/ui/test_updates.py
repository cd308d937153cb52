"""The "update available" badge through NiceGUI's simulated user, with main.py wired for real and a real registry:
"Check for updates" on /images, the badge arriving live on the open containers page and on the image row, cleared
live by a pull."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import docker
import pytest
from nicegui import ui
from nicegui.testing import User

from components.update_badge import BADGE
from tests.support.moving_tag import MovingTag
from tests.support.registry import LocalRegistry, require_insecure_loopback

from .test_images import image_rows
from .test_pages import rows_of, sign_in


@pytest.fixture
def moving_tag(docker_client: docker.DockerClient) -> Iterator[MovingTag]:
    require_insecure_loopback(docker_client)
    with LocalRegistry() as registry:
        tag = MovingTag(docker_client, registry, prefix='bup')
        yield tag
        tag.close()


@contextmanager
def registry_paused(registry: LocalRegistry) -> Iterator[None]:
    """The registry answers nothing (SIGSTOP) until the block ends: a check waits for it meanwhile."""
    assert registry.process is not None
    os.kill(registry.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(registry.process.pid, signal.SIGCONT)


async def test_the_update_badge_shows_live_on_the_container_and_image_rows(user: User, moving_tag: MovingTag) -> None:
    # Given a container made from a tag that was pushed again since it was pulled
    reference = moving_tag.reference
    moving_tag.push()
    moving_tag.pull()
    container = moving_tag.container(reference)
    moving_tag.push(again=True)
    await sign_in(user)
    await user.open('/images')
    await image_rows(user, lambda rows: any(reference in row['tags'] for row in rows))
    with registry_paused(moving_tag.registry):
        # When "Check for updates" is pressed (the check waits for the registry) and the containers page is opened
        user.find(kind=ui.button, content='Check for updates').click()
        await user.should_see('Checking the images in use for updates.', retries=50)
        await user.open('/containers')
        rows = await rows_of(user, lambda rows: any(row['name'] == container for row in rows))
        assert next(row for row in rows if row['name'] == container)['update'] is None
    # Then once the registry answers, the open page shows the badge on the container's row
    rows = await rows_of(user, lambda rows: any(row['name'] == container and row['update'] for row in rows), 20)
    badge = next(row['update'] for row in rows if row['name'] == container)
    assert badge['label'] == f'Update available for {reference}'
    assert badge['remote_digest'].startswith('sha256:') and badge['remote_digest'] in badge['tooltip']
    assert ' (checked ' in badge['tooltip']
    assert ':aria-label="props.row.update.label"' in BADGE and '{{ props.row.update.tooltip }}' in BADGE
    # And the images page shows it on the image's row
    await user.open('/images')
    rows = await image_rows(user, lambda rows: any(row['update'] for row in rows if reference in row['tags']))
    assert next(row['update'] for row in rows if reference in row['tags'])['label'] == badge['label']
    await user.should_see('updates available for 1 image', retries=50)
    # When the tag is pulled, the open images page drops the badge: the tag now names what the registry names
    moving_tag.pull()
    rows = await image_rows(user, lambda rows: any(reference in row['tags'] and not row['update'] for row in rows), 30)
    assert [row['update'] for row in rows if row['update'] and row['update']['reference'] == reference] == []
