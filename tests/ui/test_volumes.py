"""/volumes through NiceGUI's simulated user against the real engine: live from volume events, who uses each."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator

import pytest
from nicegui import ui
from nicegui.testing import User

from tests.support.eventually import eventually

from .test_pages import sign_in


@pytest.fixture
def volume_name() -> Iterator[str]:
    name = f'berth-test-vol-{uuid.uuid4().hex[:8]}'
    yield name
    subprocess.run(['docker', 'volume', 'rm', '-f', name], capture_output=True)


def rows(user: User) -> list[dict]:
    return [row for table in user.find(ui.table).elements for row in table.rows]  # type: ignore[attr-defined]


def row_of(user: User, name: str) -> dict | None:
    return next((row for row in rows(user) if row['name'] == name), None)


async def test_volumes_appear_show_their_users_and_go_without_a_reload(
    user: User, make_container: Callable[..., str], volume_name: str
) -> None:
    await sign_in(user)
    await user.open('/volumes')
    await user.should_see('Volumes')
    # When a volume is created with the CLI, with a label that is not HTML
    subprocess.run(
        ['docker', 'volume', 'create', '--label', 'team=<b>ops</b>', volume_name], check=True, capture_output=True
    )
    # Then the open page lists it, unused, with its driver and label as text
    await eventually(lambda: row_of(user, volume_name) is not None, what='the new volume listed')
    row = row_of(user, volume_name)
    assert row is not None and row['driver'] == 'local' and row['users'] == [] and row['labels'] == ['team=<b>ops</b>']
    # When a container mounts it, the row names the container (from the container rows, no inspect per volume)
    container = make_container(extra=['-v', f'{volume_name}:/data'])
    await eventually(
        lambda: [entry['name'] for entry in (row_of(user, volume_name) or {}).get('users', [])] == [container],
        what='the container using the volume',
    )
    # When the container and the volume are removed with the CLI, the row goes
    subprocess.run(['docker', 'rm', '-f', container], check=True, capture_output=True)
    subprocess.run(['docker', 'volume', 'rm', volume_name], check=True, capture_output=True)
    await eventually(lambda: row_of(user, volume_name) is None, what='the removed volume gone')
