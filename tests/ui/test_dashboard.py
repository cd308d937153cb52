"""The dashboard (/) and the containers table's usage columns through NiceGUI's simulated user, against the real
engine."""

from __future__ import annotations

import io
import secrets
import subprocess
import tarfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User

from auth.accounts import Accounts
from components.top_usage import TopUsageList
from core.storage.sqlite import SQLiteDatabase
from tests.support import BUSYBOX
from tests.support.eventually import eventually

from .test_pages import rows_of, sign_in

BUSY = 'dd if=/dev/zero of=/dev/null'  # a CPU's worth of work (capped by --cpus), no output


def cli_count(*arguments: str) -> int:
    output = subprocess.run(['docker', *arguments], check=True, capture_output=True, text=True).stdout
    return len(set(output.split()))


def shown_count(user: User, kind: str) -> int:
    link = next(iter(user.find(marker=f'count-{kind}').elements))
    return int(str(link.text).split()[0])  # type: ignore[attr-defined]


def top_names(user: User, title: str) -> list[str]:
    lists = [element for element in user.find(TopUsageList).elements if element.title == title]  # type: ignore[attr-defined]
    return lists[0].names if lists else []  # type: ignore[attr-defined]


@pytest.fixture
def volume_name() -> Iterator[str]:
    name = f'bt-dash-vol-{uuid.uuid4().hex[:8]}'
    yield name
    subprocess.run(['docker', 'volume', 'rm', '-f', name], capture_output=True)


@pytest.fixture
def dangling_image() -> Iterator[str]:
    """An image with no tag: imported under a tag that then moves to busybox."""
    tag = f'bt-dash-dangling:{uuid.uuid4().hex[:8]}'
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode='w') as tar:
        info = tarfile.TarInfo(f'marker-{tag.rsplit(":", 1)[1]}')
        tar.addfile(info, io.BytesIO())
    imported = subprocess.run(
        ['docker', 'import', '-', tag], input=archive.getvalue(), check=True, capture_output=True
    ).stdout.decode()
    image_id = imported.strip()
    subprocess.run(['docker', 'tag', BUSYBOX, tag], check=True, capture_output=True)
    yield image_id
    subprocess.run(['docker', 'rmi', '-f', image_id], capture_output=True)
    subprocess.run(['docker', 'rmi', tag], capture_output=True)


async def test_the_dashboard_is_the_home_page_and_follows_the_engine(
    user: User, make_container: Callable[..., str], volume_name: str
) -> None:
    # Given a busy container on the host
    busy = make_container(name=f'bt-dash-busy-{uuid.uuid4().hex[:8]}', command=BUSY, extra=['--cpus', '0.5'])
    # When the admin signs in, the dashboard is where they land
    await sign_in(user)
    await user.should_see(marker='dashboard')
    # Then it says what the engine is, from the engine itself
    version = subprocess.run(
        ['docker', 'version', '--format', '{{.Server.Version}}'], check=True, capture_output=True, text=True
    ).stdout.strip()
    await user.should_see(version, retries=50)
    await user.should_see('overlay2')
    # And the counts are those of the CLI, and follow a volume created with the CLI without a reload
    await eventually(lambda: shown_count(user, 'containers') == cli_count('ps', '-aq'), what='the container count')
    await eventually(lambda: shown_count(user, 'images') == cli_count('images', '-q'), what='the image count')
    subprocess.run(['docker', 'volume', 'create', volume_name], check=True, capture_output=True)
    await eventually(lambda: shown_count(user, 'volumes') == cli_count('volume', 'ls', '-q'), what='the volume count')
    await eventually(lambda: shown_count(user, 'networks') == cli_count('network', 'ls', '-q'), what='network count')
    # And the disk usage is measured, with the prune of images offered to an admin
    await user.should_see(marker='disk-Images', retries=50)
    await user.should_see('reclaimable')
    # And the busy container leads the CPU list once the sampler has read it
    await eventually(lambda: busy in top_names(user, 'Top by CPU'), 30, lambda: top_names(user, 'Top by CPU'))


async def test_a_finished_job_shows_among_the_recent_jobs(user: User, make_container: Callable[..., str]) -> None:
    name = make_container(name=f'bt-dash-{uuid.uuid4().hex[:8]}')
    await sign_in(user)
    await user.open(f'/containers/{name}')
    user.find(marker='Kill').click()
    await user.should_see(f'Kill {name}: killed — asked by admin', retries=100)
    await user.open('/')
    await user.should_see(f'container.kill {name}', retries=50)


async def test_a_viewer_reads_the_dashboard_without_prune_links(user: User, data_dir: Path) -> None:
    password = secrets.token_urlsafe(12)
    Accounts(SQLiteDatabase(data_dir / 'berth.sqlite3')).create('vicky', password, 'viewer')
    await sign_in(user, 'vicky', password)
    await user.should_see('Recent jobs')
    await user.should_see(marker='count-networks')
    await user.should_see(marker='disk-Images', retries=50)
    await user.should_not_see('Prune images…')
    await user.should_not_see('Prune networks…')


async def test_the_dashboards_prune_link_opens_the_prune_dialog_of_images(user: User, dangling_image: str) -> None:
    await sign_in(user)
    await user.open('/images?prune=1')
    await user.should_see('dangling images?', retries=50)
    await user.should_see(dangling_image.removeprefix('sha256:')[:12])
    user.find(kind=ui.button, content='Cancel').click()


async def test_running_rows_show_cpu_and_memory_and_stopped_rows_none(
    user: User, make_container: Callable[..., str]
) -> None:
    running = make_container(name=f'bt-dash-{uuid.uuid4().hex[:8]}')
    stopped = make_container(name=f'bt-dash-{uuid.uuid4().hex[:8]}', start=False)
    await sign_in(user, to='/containers')  # not by the dashboard, whose own sampling would fill the cells too
    user.find(kind=ui.input).type('bt-dash-')

    def row(rows: list[dict], name: str) -> dict:
        return next(row for row in rows if row['name'] == name)

    rows = await rows_of(
        user, lambda rows: {running, stopped} <= {row['name'] for row in rows} and row(rows, running)['cpu'] != '', 30
    )
    assert row(rows, running)['cpu'].endswith(' %') and ' / ' in row(rows, running)['memory']
    assert row(rows, stopped)['cpu'] == '' and row(rows, stopped)['memory'] == ''
    # When the running one stops, its figures go with it
    subprocess.run(['docker', 'kill', running], check=True, capture_output=True)
    await rows_of(user, lambda rows: row(rows, running)['state'] == 'exited' and row(rows, running)['cpu'] == '')
