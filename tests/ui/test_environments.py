"""Dev environments through the pages (NiceGUI's simulated user, main.py wired for real, the real engine): a developer
lands on its environments, creates one from a template, stops and deletes it keeping its home; another developer is
refused everything of it, by name and by id, with audit entries; admins manage the templates."""

from __future__ import annotations

import secrets
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User

from auth.accounts import Accounts
from components.environment_cards import EnvironmentCard
from components.exec_terminal import ExecTerminal
from core.environments.templates import EnvironmentNames, Template, Templates
from core.storage.audit import AuditLog
from core.storage.sqlite import SQLiteDatabase
from tests.support import BUSYBOX
from tests.support.eventually import eventually

from .test_logs import open_logs
from .test_pages import sign_in
from .test_terminal_access import answer_terminal_scripts, processes

TEMPLATE = {'name': 'bt-box', 'image': BUSYBOX, 'home': '/home/dev', 'cpus': 0.5, 'memory': '64m', 'idle_minutes': 30}


def database(data_dir: Path) -> SQLiteDatabase:
    return SQLiteDatabase(data_dir / 'berth.sqlite3')


@pytest.fixture
def environment_name() -> Iterator[str]:
    """A unique environment name (bt…); its containers and volumes are removed afterwards."""
    name = f'bt{uuid.uuid4().hex[:8]}'
    yield name
    run = subprocess.run
    for container in run(
        ['docker', 'ps', '-aq', '--filter', f'label=berth.environment={name}'], capture_output=True, text=True
    ).stdout.split():
        run(['docker', 'rm', '-f', container], capture_output=True)
    for volume in run(['docker', 'volume', 'ls', '-q'], capture_output=True, text=True).stdout.split():
        if volume.startswith('berth-env-') and f'-{name}-' in volume:
            run(['docker', 'volume', 'rm', volume], capture_output=True)


async def sign_in_as(user: User, data_dir: Path, username: str, role: str = 'developer') -> str:
    """Signs in a new local account with ``role``; returns the title of the page it landed on."""
    password = secrets.token_urlsafe(12)
    Accounts(database(data_dir)).create(username, password, role)
    await user.open('/login')
    user.find('Username').type(username)
    user.find('Password').type(password)
    user.find(kind=ui.button, content='Sign in').click()
    await user.should_see(f'{username} · {role}', retries=50)
    landed = str(user.client.title if user.client else '')
    # the simulated user keeps the sign-in's request for the page it was redirected to: open it afresh
    await user.open('/environments')
    return landed


def card_state(user: User, name: str) -> str:
    """The state badge of the environment's card ('' when there is no card)."""
    elements = user.client.elements.values() if user.client else []
    cards = [card for card in elements if isinstance(card, EnvironmentCard) and card.environment.name == name]
    return str(cards[0].state.text) if cards else ''


async def test_a_developer_creates_stops_and_deletes_an_environment_keeping_its_home(
    user: User, data_dir: Path, environment_name: str
) -> None:
    Templates(database(data_dir)).save(Template.from_mapping(TEMPLATE), by='test')
    # Given a developer, who lands on its environments and sees nothing else in the navigation
    assert await sign_in_as(user, data_dir, 'dana') == 'Environments · Berth'
    await user.should_see('My environments')
    await user.should_see('No environments yet.')
    for hidden in ('Containers', 'Images', 'Volumes', 'Networks', 'Users', 'Templates', 'Audit'):
        await user.should_not_see(kind=ui.button, content=hidden)
    # When it asks for a new environment from the template
    user.find(kind=ui.button, content='New environment').click()
    await user.should_see('Template', retries=50)
    user.find('Name').type('not a name!')
    user.find(kind=ui.button, content='Create').click()
    await user.should_see("'not a name!' is not a valid environment name")
    user.find('Name').clear().type(environment_name)
    user.find(kind=ui.button, content='Create').click()
    # Then its card appears, live, and it runs
    await eventually(lambda: card_state(user, environment_name) == 'running', 30, what='the card shows it running')
    container = EnvironmentNames.of(owner_id='local:dana', username='dana', name=environment_name).container
    assert processes(container)[0].startswith('sh -c trap')
    # When it stops it, the card says so
    user.find(marker=f'stop-{environment_name}').click()
    await eventually(lambda: card_state(user, environment_name) == 'exited', 30, what='the card shows it stopped')
    # When it deletes it, the dialog keeps the home unless told otherwise; the card goes, the home stays
    user.find(marker=f'delete-{environment_name}').click()
    await user.should_see('Keep the home volume')
    user.find(marker='confirm-delete').click()
    await eventually(lambda: card_state(user, environment_name) == '', 30, what='the card to go')
    home = EnvironmentNames.of(owner_id='local:dana', username='dana', name=environment_name).home_volume
    await eventually(
        lambda: subprocess.run(['docker', 'volume', 'inspect', home], capture_output=True).returncode == 0,
        what='the home volume kept',
    )
    await user.should_see('No environments yet.')


async def test_another_developer_reaches_nothing_of_it_by_name_or_id(
    create_user: Callable[[], User], data_dir: Path, environment_name: str
) -> None:
    Templates(database(data_dir)).save(Template.from_mapping(TEMPLATE), by='test')
    dana, eve = create_user(), create_user()
    await sign_in_as(dana, data_dir, 'dana')
    dana.find(kind=ui.button, content='New environment').click()
    await dana.should_see('Template', retries=50)
    dana.find('Name').type(environment_name)
    dana.find(marker='create-environment').click()
    await eventually(lambda: card_state(dana, environment_name) == 'running', 30, what='the environment to run')
    container = EnvironmentNames.of(owner_id='local:dana', username='dana', name=environment_name).container
    container_id = subprocess.run(
        ['docker', 'inspect', '-f', '{{.Id}}', container], check=True, capture_output=True, text=True
    ).stdout.strip()
    # Given another developer: its own page shows none of dana's environments
    await sign_in_as(eve, data_dir, 'eve')
    await eve.should_see('No environments yet.')
    await eve.should_not_see(environment_name)
    # When it opens dana's terminal, logs and detail pages by name and by id, each is refused with a sentence
    before = processes(container)
    answer_terminal_scripts(eve)
    pages = [
        ('/environments/{}/terminal', 'eve is a developer: open a terminal needs the operator role.'),
        ('/containers/{}/terminal', 'eve is a developer: open a terminal needs the operator role.'),
        ('/containers/{}/logs', 'eve is a developer: read logs needs the viewer role.'),
        ('/containers/{}', 'eve is a developer: inspect containers needs the viewer role.'),
    ]
    for path, refusal in pages:
        for target in (container, container_id[:12]):
            await eve.open(path.format(target))
            await eve.should_see(refusal, retries=50)
            await eve.should_not_see('New terminal')
    assert processes(container) == before  # nothing ran in it
    # And every refusal is in the audit log, naming what was asked for
    refused = [
        (entry.action, entry.target)
        for entry in AuditLog(database(data_dir)).entries(username='eve')
        if entry.result.startswith('refused: ')
    ]
    for action in ('container.exec', 'logs.follow', 'container.inspect'):
        assert (action, container) in refused and (action, container_id[:12]) in refused, refused
    # A name that does not exist looks the same to a developer: refused, not 'no such container'
    await eve.open('/containers/bt-no-such-container')
    await eve.should_see('eve is a developer: inspect containers needs the viewer role.')
    # While dana, the owner, gets its terminal in the home directory with the template's shell
    answer_terminal_scripts(dana)
    await dana.open(f'/environments/{container}/terminal')
    await dana.should_see(f'sh in {container}', retries=100)
    await eventually(lambda: processes(container) == [*before, '/bin/sh'], what='the shell in the environment')


async def test_admins_manage_templates_with_a_sentence_per_wrong_field(user: User, data_dir: Path) -> None:
    Templates(database(data_dir)).save(Template.from_mapping(TEMPLATE, source='file'), by='templates.yaml')
    await sign_in(user)
    await user.open('/admin/templates')
    await user.should_see('Environment templates')
    table = next(iter(user.find(ui.table).elements))
    await eventually(lambda: len(table.rows) == 1, what='the seeded template listed')  # type: ignore[attr-defined]
    assert table.rows[0]['source'] == 'templates.yaml'  # type: ignore[attr-defined]
    user.find(kind=ui.button, content='New template').click()
    await user.should_see('Idle minutes', retries=50)
    for label, value in (('Name', 'bt-tpl'), ('Image', BUSYBOX), ('Home', 'home'), ('CPUs', '1'), ('Memory', 'lots')):
        user.find(kind=ui.input, content=label).type(value)
    user.find(kind=ui.input, content='Idle minutes').type('15')
    user.find(marker='save-template').click()
    await user.should_see("'lots' is not a memory size: write e.g. 512m or 1g")
    await user.should_see("'home' is not an absolute path")
    user.find(kind=ui.input, content='Memory').clear().type('256m')
    user.find(kind=ui.input, content='Home').clear().type('/home/dev')
    user.find(kind=ui.input, content='Groups').type('staff, berth-developers')
    user.find(marker='save-template').click()
    templates = Templates(database(data_dir))
    await eventually(lambda: templates.get('bt-tpl') is not None, what='the template saved')
    saved = templates.get('bt-tpl')
    assert saved is not None and saved.memory == 256 * 2**20 and saved.groups == ['staff', 'berth-developers']
    entries = AuditLog(database(data_dir)).entries(action='template.')
    assert [(entry.action, entry.target, entry.result) for entry in entries] == [
        ('template.save', 'bt-tpl', 'succeeded')
    ]
    # And deleting it asks first, then it is gone, audited
    await eventually(lambda: 'bt-tpl' in [row['name'] for row in table.rows], what='the new template listed')  # type: ignore[attr-defined]
    user.find(ui.table).trigger('delete', 'bt-tpl')
    await user.should_see(marker='confirm-delete', retries=50)
    user.find(marker='confirm-delete').click()
    await eventually(lambda: templates.get('bt-tpl') is None, what='the template deleted')
    assert AuditLog(database(data_dir)).entries(action='template.delete')[0].result == 'succeeded'


async def test_an_open_terminal_and_log_view_check_the_owner_on_every_keystroke_and_open(
    user: User, data_dir: Path, environment_name: str
) -> None:
    Templates(database(data_dir)).save(Template.from_mapping(TEMPLATE), by='test')
    await sign_in_as(user, data_dir, 'dana')
    user.find(kind=ui.button, content='New environment').click()
    await user.should_see('Template', retries=50)
    user.find('Name').type(environment_name)
    user.find(marker='create-environment').click()
    await eventually(lambda: card_state(user, environment_name) == 'running', 30, what='the environment to run')
    container = EnvironmentNames.of(owner_id='local:dana', username='dana', name=environment_name).container
    # Given dana's terminal and log view of her environment, open
    answer_terminal_scripts(user)
    await user.open(f'/environments/{container}/terminal')
    await user.should_see(f'sh in {container}', retries=100)
    terminal = next(iter(user.find(ExecTerminal).elements))
    state = terminal.services.state  # type: ignore[attr-defined]
    row = state.find(container)
    # When the container no longer carries her owner id (as after a hand-over), her next keystroke is refused
    state.containers[row.id] = replace(row, labels={**row.labels, 'berth.owner': 'local:someone-else'})
    user.find(ui.xterm).trigger('data', 'echo hi\r')
    await user.should_see('dana is a developer: open a terminal needs the operator role.', retries=50)
    # And a log view of it refuses to open (or resume) a stream
    await user.open(f'/containers/{row.id}/logs')
    await user.should_see('dana is a developer: read logs needs the viewer role.', retries=50)
    state.containers[row.id] = row
    await open_logs(user, container)
    await user.should_see(f'Following {container}', retries=50)
    state.containers[row.id] = replace(row, labels={**row.labels, 'berth.owner': 'local:someone-else'})
    user.find(kind=ui.button, content='Reload').click()
    await user.should_see('Dana is a developer: read logs needs the viewer role.', retries=50)
    refused = [
        entry.action
        for entry in AuditLog(database(data_dir)).entries(username='dana')
        if entry.result.startswith('refused: ')
    ]
    assert refused.count('container.exec') == 1 and refused.count('logs.follow') == 2, refused
