"""The pages act on the host chosen in the switcher (NiceGUI's simulated user, main.py wired for real, a second real
engine B over mutual TLS on loopback): the images page pulls and prunes there, the create form creates there, the
stacks page lists and deploys there; the host's own engine gets none of it."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User

from components.log_lines import LogLines
from components.log_view import LogView
from tests.support import BUSYBOX
from tests.support.engine import OwnEngine, endpoints_setting, started_tls_engine
from tests.support.eventually import eventually
from tests.support.tls import TlsFiles

from .test_pages import sign_in
from .test_stacks import editor

EngineB = tuple[OwnEngine, str, TlsFiles]


@pytest.fixture(scope='module')
def engine_b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineB]:
    with started_tls_engine(tmp_path_factory.mktemp('bh2-ui'), 'bthost2', address='172.31.248.1/24') as engine:
        yield engine


@pytest.fixture
def host_b(data_dir: Path, monkeypatch: pytest.MonkeyPatch, engine_b: EngineB) -> Iterator[OwnEngine]:
    """Requested before the ``user`` fixture, so main.py reads it; what the test leaves on B is removed."""
    engine, url, tls = engine_b
    monkeypatch.setenv('BERTH_ENDPOINTS', endpoints_setting('b', 'Host B', url, tls))
    yield engine
    names = engine.cli('ps', '-aq', '--filter', 'name=bh2-').split()
    names += engine.cli('ps', '-aq', '--filter', 'label=com.docker.compose.project').split()
    for container in names:
        subprocess.run(['docker', '-H', engine.url, 'rm', '-f', container], capture_output=True)
    subprocess.run(['docker', '-H', engine.url, 'network', 'prune', '-f'], capture_output=True)


def on_local(*arguments: str) -> str:
    return subprocess.run(['docker', *arguments], capture_output=True, text=True).stdout


def table_rows(user: User) -> list[dict]:
    return [row for table in user.find(ui.table).elements for row in table.rows]  # type: ignore[attr-defined]


async def test_images_page_and_create_form_act_on_the_chosen_host(host_b: OwnEngine, user: User) -> None:
    engine = host_b
    await sign_in(user)
    # Given an image left dangling on B (its tag built again)
    tag = f'bh2-ui-prune-{uuid.uuid4().hex[:8]}:1'
    for label in ('first', 'second'):
        engine.cli('build', '-q', '-t', tag, '-', input=f'FROM {BUSYBOX}\nLABEL bh2={label}\n'.encode())
    # When B is chosen in the switcher and its dangling images pruned from the images page
    await user.open('/images?host=b')
    await user.should_see('Images on host "b"')
    user.find(marker='', content='Prune dangling images…').click()
    await user.should_see('Remove 1', retries=50)
    user.find(kind=ui.button, content='Remove 1').click()
    # Then they go from B
    await eventually(lambda: not engine.cli('images', '-q', '--filter', 'dangling=true').strip(), 30, 'pruned on B')
    engine.cli('rmi', tag)
    # When a pull is asked for there, the job runs against B
    user.find('Image reference').type('127.0.0.1:1/bh2-never/there:1')
    user.find(kind=ui.button, content='Pull').click()
    await user.open('/jobs')
    await eventually(lambda: any(row['what'] == 'image.pull' and row['endpoint'] == 'b' for row in table_rows(user)))
    # When a container is created from the form (the switcher still on B)
    name = f'bh2-ui-{uuid.uuid4().hex[:8]}'
    await user.open(f'/containers/new?image={BUSYBOX}')
    await user.should_see('New container on host "b"')
    user.find('Name (optional)').type(name)
    user.find('Command (optional)').type('sleep 600')
    user.find(kind=ui.button, content='Create').click()
    # Then it runs on B, and the local engine has no such container
    await eventually(lambda: engine.cli('ps', '-q', '--filter', f'name={name}').strip() != '', 30, 'created on B')
    assert not on_local('ps', '-aq', '--filter', f'name={name}').strip()


async def test_the_stacks_page_lists_and_deploys_on_the_chosen_host(host_b: OwnEngine, user: User) -> None:
    engine = host_b
    await sign_in(user)
    name = f'bh2-ui-{uuid.uuid4().hex[:8]}'
    # When a new stack is written and deployed on B's stacks page
    await user.open('/stacks?host=b')
    await user.should_see('Stacks on host "b"')
    user.find(kind=ui.button, content='New stack').click()
    await user.should_see(marker='stack-name', retries=20)
    user.find(marker='stack-name').type(name)
    user.find(kind=ui.button, content='Create').click()
    await user.should_see('compose.yaml', retries=50)
    await user.should_see('on host "b"')
    editor(user, 'compose').value = f'services:\n  web:\n    image: {BUSYBOX}\n    command: ["sleep", "600"]\n'
    user.find(kind=ui.button, content='Deploy').click()
    # Then it runs on B, not on local, and the page shows it running
    project = f'label=com.docker.compose.project={name}'
    await eventually(lambda: engine.cli('ps', '-q', '--filter', project).strip() != '', 60, 'the stack on B')
    assert not on_local('ps', '-aq', '--filter', project).strip()
    await user.should_see('running 1 of 1', retries=100)
    # And B's stacks list it as Berth's, while local's do not
    await user.open('/stacks')
    await eventually(lambda: any(row['name'] == name and row['source'] == 'managed' for row in table_rows(user)))
    await user.open('/stacks?host=local')
    await user.should_see('Stacks')
    assert not any(row['name'] == name for row in table_rows(user))
    # And its page on another host leads to its own
    await user.open(f'/stacks/{name}')
    await user.should_see('on host "b"', retries=50)


async def test_a_projects_logs_gather_its_containers_on_every_host_each_line_labelled(
    host_b: OwnEngine, user: User
) -> None:
    engine = host_b
    project = f'berth-h3-logs-{uuid.uuid4().hex[:8]}'
    name_a, name_b = f'{project}-a', f'{project}-b'
    label = ['--label', f'com.docker.compose.project={project}']
    # Given a compose project with a container on local and one on B, each saying where it runs
    on_local('run', '-d', '--name', name_a, *label, BUSYBOX, 'sh', '-c', 'echo said-on-a; sleep 600')
    engine.cli('run', '-d', '--name', name_b, *label, BUSYBOX, 'sh', '-c', 'echo said-on-b; sleep 600')
    try:
        await sign_in(user)
        # When the project's logs are opened with every host chosen
        view = await open_project_logs(user, project, 'all', members=2)
        # Then both containers' lines come, each labelled with its host
        await eventually(lambda: {('local/' + name_a, 'said-on-a'), ('b/' + name_b, 'said-on-b')} <= shown(view))
        # When a new member starts on B while the view follows, it joins, labelled too
        engine.cli('run', '-d', '--name', f'{name_b}2', *label, BUSYBOX, 'sh', '-c', 'echo joined-on-b; sleep 600')
        await eventually(lambda: ('b/' + f'{name_b}2', 'joined-on-b') in shown(view), what='the new member on B')
        # When B alone is chosen, only B's containers, without host labels
        view = await open_project_logs(user, project, 'b', members=2)
        await user.should_see(f'Logs of compose project {project} on host "b"')
        await eventually(lambda: (name_b, 'said-on-b') in shown(view))
        assert not any(text == 'said-on-a' for _, text in shown(view))
    finally:
        on_local('rm', '-f', name_a)


async def open_project_logs(user: User, project: str, host: str, *, members: int) -> LogView:
    """Opens /logs?project= once the state has the project's members; shows the line area; returns the view."""
    for _ in range(50):
        await user.open(f'/logs?project={project}&host={host}')
        views = list(user.find(LogView).elements)
        if views and len(views[0].targets) >= members:
            break
        await asyncio.sleep(0.2)
    user.find(LogLines).trigger('ready')
    return next(iter(user.find(LogView).elements))


def shown(view: LogView) -> set[tuple[str, str]]:
    return {(line.container, line.text.strip()) for line in view.lines}
