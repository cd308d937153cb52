"""Dev environments against the real engine: made from a template through the one dispatch path, a persistent home
that outlives stop, delete-keeping-the-volume and re-create, removed with the environment when asked, never another
owner's volume reattached, and handed over by an admin with the data kept."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator

import pytest

from core.environments.templates import EnvironmentNames, Template
from core.errors import CommandError
from core.jobs.store import Job
from core.permissions import OWNER_LABEL, Forbidden, Identity
from system import Services
from tests.support import BUSYBOX
from tests.support.eventually import eventually

from .test_images import finished

DANA = Identity(username='dana', role='developer', address='127.0.0.1', subject='https://idp.test|dana')
EVE = Identity(username='eve', role='developer', address='127.0.0.1', subject='https://idp.test|eve')
ADA = Identity(username='ada', role='admin', address='127.0.0.1', subject='local:ada')
TEMPLATE = {
    'name': 'bt-busybox',
    'image': BUSYBOX,
    'home': '/home/dev',
    'cpus': 0.5,
    'memory': '64m',
    'idle_minutes': 30,
    'shell': '/bin/sh',
    'volumes': ['cache:/cache'],
}


def sh(*arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(arguments), check=check, capture_output=True, text=True)


def volume_exists(name: str) -> bool:
    return sh('docker', 'volume', 'inspect', name, check=False).returncode == 0


@pytest.fixture
def environment_name() -> Iterator[Callable[[], str]]:
    """Unique environment names (bt…); every container and volume of them is removed afterwards."""
    names: list[str] = []

    def make() -> str:
        names.append(f'bt{uuid.uuid4().hex[:8]}')
        return names[-1]

    yield make
    for name in names:
        for container in sh('docker', 'ps', '-aq', '--filter', f'label=berth.environment={name}').stdout.split():
            sh('docker', 'rm', '-f', container, check=False)
        for volume in sh('docker', 'volume', 'ls', '-q', '--filter', f'label=berth.environment={name}').stdout.split():
            sh('docker', 'volume', 'rm', volume, check=False)
        for volume in sh('docker', 'volume', 'ls', '-q').stdout.split():
            if volume.startswith('berth-env-') and f'-{name}-' in volume:
                sh('docker', 'volume', 'rm', volume, check=False)


@pytest.fixture
def template(services: Services) -> Template:
    saved = Template.from_mapping(TEMPLATE)
    services.templates.save(saved, by='test')
    return saved


async def done(services: Services, job: Job, status: str = 'succeeded') -> Job:
    ended = await finished(services, job)
    assert ended.status == status, ended.message
    return ended


async def created(services: Services, who: Identity, name: str) -> str:
    """Creates ``who``'s environment ``name``; returns its container name, once the state shows it running."""
    job = await done(services, await services.commands.create_environment(who, 'bt-busybox', name))
    container = EnvironmentNames.of(owner_id=who.owner_id, username=who.username, name=name).container
    await eventually(
        lambda: (row := services.state.find(container)) is not None and row.state == 'running',
        what=f'{container} running',
    )
    assert container in job.message
    return container


async def test_the_home_outlives_stop_delete_and_re_create(
    services: Services, template: Template, environment_name: Callable[[], str]
) -> None:
    name = environment_name()
    home = EnvironmentNames.of(owner_id=DANA.owner_id, username='dana', name=name).home_volume
    # Given dana's environment, made from the template with its home and its labels
    container = await created(services, DANA, name)
    row = services.state.find(container)
    assert row is not None and row.labels[OWNER_LABEL] == DANA.owner_id and row.labels['berth.environment'] == name
    assert row.labels['berth.workdir'] == '/home/dev' and row.labels['berth.shell'] == '/bin/sh'
    assert sh('docker', 'volume', 'inspect', '-f', '{{index .Labels "berth.owner"}}', home).stdout.strip() == (
        DANA.owner_id
    )
    sh('docker', 'exec', container, 'sh', '-c', 'echo kept > /home/dev/notes.txt')
    # When it is stopped and started again, the file is there
    await done(services, await services.commands.container_action(DANA, 'stop', row.id))
    await done(services, await services.commands.container_action(DANA, 'start', row.id))
    assert sh('docker', 'exec', container, 'cat', '/home/dev/notes.txt').stdout == 'kept\n'
    # When it is deleted keeping its home, and made again with the same name, the home comes back
    job = await done(services, await services.commands.delete_environment(DANA, container))
    assert 'kept' in job.message and volume_exists(home)
    await eventually(lambda: services.state.find(container) is None, what=f'{container} gone')
    job = await done(services, await services.commands.create_environment(DANA, 'bt-busybox', name))
    assert f'its home {home} reattached' in job.message
    await eventually(lambda: (found := services.state.find(container)) is not None and found.state == 'running')
    assert sh('docker', 'exec', container, 'cat', '/home/dev/notes.txt').stdout == 'kept\n'
    # When it is deleted without keeping its home, its volumes go with it
    await done(services, await services.commands.delete_environment(DANA, container, keep_home=False))
    assert not volume_exists(home) and not volume_exists(home.replace('-home', '-cache'))


async def test_another_owners_home_volume_is_never_reattached(
    services: Services, template: Template, environment_name: Callable[[], str]
) -> None:
    name = environment_name()
    names = EnvironmentNames.of(owner_id=DANA.owner_id, username='dana', name=name)
    # Given a volume by the name dana's home would get, made by someone else
    sh('docker', 'volume', 'create', '--label', f'{OWNER_LABEL}={EVE.owner_id}', names.home_volume)
    # When dana creates the environment, the worker refuses it with a sentence and makes nothing
    job = await done(services, await services.commands.create_environment(DANA, 'bt-busybox', name), 'failed')
    assert job.message == (
        f'refused: the volume {names.home_volume} exists and belongs to someone else: it is not reattached'
    )
    assert services.state.find(names.container) is None and not volume_exists(names.extra_volume('cache'))


async def test_only_the_owner_or_an_operator_deletes_and_refusals_are_audited(
    services: Services, template: Template, environment_name: Callable[[], str]
) -> None:
    container = await created(services, DANA, environment_name())
    row = services.state.find(container)
    assert row is not None
    # eve, another developer, can neither delete nor stop dana's environment, by name or by id
    for target in (container, row.id):
        with pytest.raises(Forbidden, match='eve is a developer'):
            await services.commands.delete_environment(EVE, target)
    with pytest.raises(Forbidden):
        await services.commands.container_action(EVE, 'stop', row.id)
    refused = [entry for entry in services.audit.entries(username='eve') if entry.result.startswith('refused: ')]
    assert [entry.action for entry in refused] == ['container.stop', 'environment.delete', 'environment.delete']
    # and a name that is not an environment says so without telling a developer anything
    with pytest.raises(CommandError, match='there is no environment'):
        await services.commands.delete_environment(EVE, 'no-such-thing')
    # a template limited to groups dana is not in is refused, audited
    services.templates.save(Template.from_mapping({**TEMPLATE, 'name': 'bt-staff', 'groups': ['staff']}), by='test')
    with pytest.raises(Forbidden, match='dana may not use the template bt-staff: it is for the groups staff'):
        await services.commands.create_environment(DANA, 'bt-staff', environment_name())
    assert services.audit.entries(username='dana', action='environment.create')[0].result.startswith('refused: ')


async def test_an_admin_hands_an_environment_over_with_its_data(
    services: Services, template: Template, environment_name: Callable[[], str]
) -> None:
    name = environment_name()
    container = await created(services, DANA, name)
    sh('docker', 'exec', container, 'sh', '-c', 'echo from-dana > /home/dev/notes.txt; chown 1000 /home/dev/notes.txt')
    row = services.state.find(container)
    assert row is not None
    with pytest.raises(Forbidden, match='dana is a developer'):
        await services.commands.assign_environment(DANA, container, owner=EVE.owner_id, username='eve')
    # When an admin hands it to eve
    job = await done(
        services, await services.commands.assign_environment(ADA, container, owner=EVE.owner_id, username='eve')
    )
    new = EnvironmentNames.of(owner_id=EVE.owner_id, username='eve', name=name)
    assert job.message == f'handed to eve as {new.container}'
    # Then eve's container has the home (files and owners kept), dana's container and volumes are gone
    await eventually(lambda: (found := services.state.find(new.container)) is not None and found.state == 'running')
    moved = services.state.find(new.container)
    assert moved is not None and moved.labels[OWNER_LABEL] == EVE.owner_id
    assert sh('docker', 'exec', new.container, 'stat', '-c', '%u %n', '/home/dev/notes.txt').stdout == (
        '1000 /home/dev/notes.txt\n'
    )
    assert sh('docker', 'exec', new.container, 'cat', '/home/dev/notes.txt').stdout == 'from-dana\n'
    old = EnvironmentNames.of(owner_id=DANA.owner_id, username='dana', name=name)
    assert services.state.find(container) is None or services.state.find(container).id != row.id  # type: ignore[union-attr]
    assert not volume_exists(old.home_volume) and volume_exists(new.home_volume)
