"""/volumes and /volumes/{name} through NiceGUI's simulated user against the real engine: live from volume events,
who uses each, create / remove / prune dialogs, sizes, buttons by role."""

from __future__ import annotations

import secrets
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User

from auth.accounts import Accounts
from core.storage.sqlite import SQLiteDatabase
from tests.support import BUSYBOX
from tests.support.eventually import eventually

from .test_pages import sign_in


@pytest.fixture
def volume_name() -> Iterator[str]:
    name = f'bt-vol-{uuid.uuid4().hex[:8]}'
    yield name
    users = subprocess.run(['docker', 'ps', '-aq', '--filter', f'volume={name}'], capture_output=True, text=True)
    for container in users.stdout.split():  # a test that failed half-way may leave one
        subprocess.run(['docker', 'rm', '-f', '-v', container], capture_output=True)
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


FILL_1MB = ['sh', '-c', 'head -c 1000000 /dev/urandom > /d/blob']


def exists(name: str) -> bool:
    return subprocess.run(['docker', 'volume', 'inspect', name], capture_output=True).returncode == 0


async def test_an_admin_creates_a_volume_in_the_dialog_after_it_says_what_is_wrong(
    user: User, volume_name: str
) -> None:
    await sign_in(user)
    await user.open('/volumes')
    user.find(kind=ui.button, content='New volume').click()
    await user.should_see('Driver options')  # an admin's dialog
    # A bad name is a sentence as it is typed; a bad label when Create is pressed, and the dialog stays
    user.find('Name').type('my data')
    await user.should_see("Volume name 'my data' is not valid: use letters, digits and . _ -")
    user.find('Name').clear().type(volume_name)
    user.find('Labels').type('team=shop\nlonely')
    user.find(kind=ui.button, content='Create').click()
    await user.should_see("Label 'lonely' must be written key=value", retries=20)
    assert not exists(volume_name)
    user.find('Labels').clear().type('team=shop')
    user.find(kind=ui.button, content='Create').click()
    # Then the job creates it and the open table lists it with its label
    await eventually(lambda: (row_of(user, volume_name) or {}).get('labels') == ['team=shop'], what='the new volume')
    await user.should_not_see('Driver options')


async def test_buttons_follow_the_role(user: User, create_user: Callable[[], User], data_dir: Path) -> None:
    subprocess.run(['docker', 'volume', 'create', 'bt-vol-role-probe'], check=True, capture_output=True)
    try:
        for role, name in (('operator', 'otto'), ('viewer', 'vera')):
            password = secrets.token_urlsafe(12)
            Accounts(SQLiteDatabase(data_dir / 'berth.sqlite3')).create(name, password, role)
            someone = create_user()
            await sign_in(someone, name, password)
            await someone.open('/volumes')
            await eventually(
                lambda someone=someone: row_of(someone, 'bt-vol-role-probe') is not None,  # type: ignore[misc]
                what='the volume listed',
            )
            row = row_of(someone, 'bt-vol-role-probe')
            assert row is not None and row['removable'] is (role == 'operator')
            if role == 'viewer':
                for button in ('New volume', 'Prune'):
                    await someone.should_not_see(kind=ui.button, content=button)
                continue
            someone.find(kind=ui.button, content='New volume').click()
            await someone.should_see('Labels')
            await someone.should_not_see('Driver options')  # admins only
    finally:
        subprocess.run(['docker', 'volume', 'rm', '-f', 'bt-vol-role-probe'], capture_output=True)


async def test_removing_a_volume_in_use_names_the_container_and_force_removes_both(
    user: User, make_container: Callable[..., str], volume_name: str
) -> None:
    subprocess.run(['docker', 'volume', 'create', volume_name], check=True, capture_output=True)
    container = make_container(
        name=f'bt-vol-user-{uuid.uuid4().hex[:6]}', start=False, extra=['-v', f'{volume_name}:/d']
    )
    await sign_in(user)
    await user.open('/volumes')
    await eventually(lambda: bool((row_of(user, volume_name) or {}).get('users')), what='the volume and its user')
    # When the admin asks to remove it, the dialog names the container; confirming without force is refused
    user.find(ui.table).trigger('row_action', {'action': 'remove', 'id': volume_name})
    await user.should_see(f'In use by {container} (created): the engine refuses unless forced.')
    user.find(kind=ui.button, content='Remove').click()
    await user.should_see(
        f'Volume {volume_name} is in use by {container}: remove it first, or force the removal (which removes it).'
    )
    assert exists(volume_name)
    # When forced, the container and then the volume go
    user.find(ui.table).trigger('row_action', {'action': 'remove', 'id': volume_name})
    await user.should_see(kind=ui.checkbox, content='Force')
    user.find(kind=ui.checkbox, content='Force').click()
    user.find(kind=ui.button, content='Remove').click()
    await eventually(lambda: row_of(user, volume_name) is None, timeout=20, what='the volume gone from the table')
    assert not exists(volume_name)


async def test_sizes_arrive_after_the_table_and_the_prune_preview_lists_what_qualifies(
    user: User, make_container: Callable[..., str], volume_name: str
) -> None:
    await sign_in(user)
    await user.open('/volumes')
    await user.should_see('Sizes as of', retries=300)  # /system/df takes seconds on a busy engine
    # Given a named volume holding 1 MB, and an anonymous one in use
    subprocess.run(['docker', 'volume', 'create', volume_name], check=True, capture_output=True)
    subprocess.run(
        ['docker', 'run', '--rm', '--name', f'{volume_name}-fill', '-v', f'{volume_name}:/d', BUSYBOX, *FILL_1MB],
        check=True,
        capture_output=True,
    )
    holder = make_container(name=f'bt-vol-anon-{uuid.uuid4().hex[:6]}', start=False, extra=['-v', '/data'])
    await eventually(lambda: row_of(user, volume_name) is not None, what='the volume listed')
    # When sizes are refreshed, the row shows the engine's measure
    user.find(kind=ui.button, content='Refresh sizes').click()
    await eventually(lambda: (row_of(user, volume_name) or {}).get('size') == '1 MB', what='the size')
    anonymous_in_use = next(row['name'] for row in rows(user) if any(entry['name'] == holder for entry in row['users']))
    # The prune preview: unused anonymous volumes by default, named ones only when 'all' is chosen; never one in use
    user.find(kind=ui.button, content='Prune').click()
    await user.should_see('Unused anonymous volumes')
    await user.should_not_see(volume_name)
    await user.should_not_see(anonymous_in_use)
    user.find('All unused volumes (named ones too)').click()
    await user.should_see(volume_name)
    await user.should_see('1 MB')
    await user.should_not_see(anonymous_in_use)
    user.find(kind=ui.button, content='Cancel').click()
    assert exists(volume_name)


async def test_the_detail_page_shows_the_volume_its_users_and_says_when_it_is_gone(
    user: User, make_container: Callable[..., str], volume_name: str
) -> None:
    subprocess.run(
        [
            'docker',
            'volume',
            'create',
            '--label',
            'team=<b>ops</b>',
            '--opt',
            'type=tmpfs',
            '--opt',
            'device=tmpfs',
            volume_name,
        ],
        check=True,
        capture_output=True,
    )
    container = make_container(
        name=f'bt-vol-user-{uuid.uuid4().hex[:6]}', start=False, extra=['-v', f'{volume_name}:/d']
    )
    await sign_in(user)
    await user.open(f'/volumes/{volume_name}')
    await user.should_see('Containers using it (1)', retries=50)
    await user.should_see(f'{container} (created)')
    await user.should_see('team')
    await user.should_see('<b>ops</b>')  # text, never HTML
    await user.should_see('tmpfs')  # an admin sees the driver options
    await user.should_see('"Mountpoint"')  # the raw JSON
    await user.should_not_see('measuring…', retries=300)  # the size came: what changes next comes from the state
    # When the volume goes (with the CLI), the open page says so
    subprocess.run(['docker', 'rm', '-f', container], check=True, capture_output=True)
    await user.should_see('Containers using it (0)', retries=50)
    subprocess.run(['docker', 'volume', 'rm', volume_name], check=True, capture_output=True)
    await user.should_see(f'Volume {volume_name} was removed.', retries=50)
    # And a volume that is not there is a sentence
    await user.open(f'/hosts/local/volumes/{volume_name}')
    await user.should_see(f'No volume named "{volume_name}": it was removed, or never existed.')


async def test_the_dashboards_prune_link_opens_the_prune_preview(user: User) -> None:
    await sign_in(user)
    await user.open('/volumes?prune=1')
    await user.should_see('All unused volumes (named ones too)', retries=50)  # the preview's mode choice
    user.find(kind=ui.button, content='Cancel').click()
