"""The images page and the create form through NiceGUI's simulated user, with main.py wired for real."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator

import pytest
from nicegui import ui
from nicegui.testing import User

from components.image_table import ImageTable
from tests.support import BUSYBOX
from tests.support.eventually import eventually

from .test_pages import sign_in


async def image_rows(user: User, predicate: Callable[[list[dict]], bool], timeout: float = 10) -> list[dict]:
    """The rows of the page's image tables, once ``predicate`` holds for them."""

    def rows() -> list[dict]:
        return [row for table in user.find(ImageTable).elements for row in table.rows]  # type: ignore[attr-defined]

    await eventually(lambda: predicate(rows()), timeout, lambda: f'image rows to match, have {rows()}')
    return rows()


@pytest.fixture
def extra_tag() -> Iterator[str]:
    tag = f'berth-test/ui:{uuid.uuid4().hex[:8]}'
    yield tag
    subprocess.run(['docker', 'rmi', tag], check=False, capture_output=True)


async def test_pull_form_says_what_is_wrong_before_anything_runs(user: User) -> None:
    await sign_in(user)
    await user.open('/images')
    # When a malformed reference is typed and Pull is pressed
    user.find('Image reference').type('ngin x')
    user.find(kind=ui.button, content='Pull').click()
    # Then the field says what is wrong, and no job was queued
    await user.should_see("Image reference 'ngin x' is not valid: spaces are not allowed", retries=20)
    await user.open('/jobs')
    jobs = [row for table in user.find(ui.table).elements for row in table.rows]  # type: ignore[attr-defined]
    assert not [row for row in jobs if row['what'] == 'image.pull']


async def test_images_table_is_live(user: User, extra_tag: str) -> None:
    await sign_in(user)
    await user.open('/images')
    rows = await image_rows(user, lambda rows: any(BUSYBOX in row['tags'] for row in rows))
    busybox = next(row for row in rows if BUSYBOX in row['tags'])
    assert busybox['size'].endswith('MB') and not busybox['dangling']
    # When someone tags the image with the plain CLI, the open page shows the new tag on the same row
    subprocess.run(['docker', 'tag', BUSYBOX, extra_tag], check=True, capture_output=True)
    rows = await image_rows(user, lambda rows: any(extra_tag in row['tags'] for row in rows))
    assert next(row for row in rows if extra_tag in row['tags'])['id'] == busybox['id']
    # And the image's own page shows what it is and the containers made from it (other tests come and go)
    await user.open(f'/images/{busybox["id"]}')
    await user.should_see('Containers using it (', retries=50)
    await user.should_see(busybox['id'])


async def test_create_form_points_at_the_wrong_field(user: User) -> None:
    await sign_in(user)
    await user.open(f'/containers/new?image={BUSYBOX}')
    user.find('Published ports ([ip:]host:container[/proto])').type('80:80/xyz')
    user.find('Memory limit').type('lots')
    user.find(kind=ui.button, content='Create').click()
    await user.should_see("Port '80:80/xyz' is not valid: the protocol must be tcp, udp or sctp", retries=20)
    await user.should_see("'lots' is not a memory size: write e.g. 512m or 1g")
