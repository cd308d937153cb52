"""The "update available" badge through NiceGUI's simulated user, with main.py wired for real and a real registry:
"Check for updates" on /images, the badge on the image row and on the container row, cleared live by a pull."""

from __future__ import annotations

from collections.abc import Iterator

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


async def test_the_update_badge_shows_on_the_image_and_container_rows(user: User, moving_tag: MovingTag) -> None:
    # Given a container made from a tag that was pushed again since it was pulled
    reference = moving_tag.reference
    moving_tag.push()
    moving_tag.pull()
    container = moving_tag.container(reference)
    moving_tag.push(again=True)
    await sign_in(user)
    await user.open('/images')
    await image_rows(user, lambda rows: any(reference in row['tags'] for row in rows))
    # When "Check for updates" is pressed, the open page shows the badge on the image's row once the job ends
    user.find(kind=ui.button, content='Check for updates').click()
    rows = await image_rows(user, lambda rows: any(row['update'] for row in rows if reference in row['tags']), 30)
    badge = next(row['update'] for row in rows if reference in row['tags'])
    assert badge['label'] == f'Update available for {reference}'
    assert badge['remote_digest'].startswith('sha256:') and badge['remote_digest'] in badge['tooltip']
    assert ' (checked ' in badge['tooltip']
    assert ':aria-label="props.row.update.label"' in BADGE and '{{ props.row.update.tooltip }}' in BADGE
    await user.should_see('updates available for 1 image', retries=50)
    # And the containers page shows it on the container's row
    await user.open('/containers')
    rows = await rows_of(user, lambda rows: any(row['name'] == container and row['update'] for row in rows))
    assert next(row['update'] for row in rows if row['name'] == container)['label'] == badge['label']
    # When the tag is pulled, the images page (open) drops the badge: the tag now names what the registry names
    await user.open('/images')
    await image_rows(user, lambda rows: any(row['update'] for row in rows if reference in row['tags']))
    moving_tag.pull()
    rows = await image_rows(user, lambda rows: any(reference in row['tags'] and not row['update'] for row in rows), 30)
    assert [row['update'] for row in rows if row['update'] and row['update']['reference'] == reference] == []
