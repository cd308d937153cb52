"""Compose stacks through NiceGUI's simulated user, with main.py wired for real: the real Compose v2 against the real
engine, deploying from the page's editor."""

from __future__ import annotations

import json
import secrets
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest
from nicegui import ui
from nicegui.testing import User

from auth.accounts import Accounts
from core.stacks.compose import find_compose
from core.storage.audit import AuditLog
from core.storage.credentials import KEY_FILE, RegistryCredentials, SecretBox
from core.storage.sqlite import SQLiteDatabase
from tests.support import BUSYBOX
from tests.support.eventually import eventually
from tests.support.registry import (
    PASSWORD,
    USERNAME,
    LocalRegistry,
    build_layered_image,
    forget_locally,
    push_and_forget,
    require_insecure_loopback,
)

from .test_pages import sign_in

TWO_SERVICES = f"""services:
  web:
    image: {BUSYBOX}
    command: ["sleep", "3600"]
  db:
    image: {BUSYBOX}
    command: ["sleep", "3601"]
"""


def compose_binary() -> str:
    return str(find_compose().path)


def containers(project: str) -> dict[str, str]:
    """service → container id of the project's containers, as the engine has them."""
    lines = subprocess.run(
        [
            'docker', 'ps', '-a', '--filter', f'label=com.docker.compose.project={project}', '--format',
            '{{.Label "com.docker.compose.service"}} {{.ID}} {{.State}}',
        ],
        check=True, capture_output=True, text=True,
    ).stdout.split('\n')  # fmt: skip
    found = {}
    for line in lines:
        if line.strip():
            service, container_id, state = line.split()
            found[service] = f'{container_id} {state}'
    return found


def command_of(container: str) -> str:
    """The container's command; '' when it is gone meanwhile (a redeploy replaces containers while we look)."""
    return subprocess.run(
        ['docker', 'inspect', '--format', '{{join .Config.Cmd " "}}', container.split(maxsplit=1)[0]],
        check=False, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


@pytest.fixture
def project() -> Iterator[str]:
    """A stack name of this test's own; the project is taken down (with its volumes) afterwards."""
    name = f'bst-{uuid.uuid4().hex[:8]}'
    yield name
    subprocess.run([compose_binary(), '-p', name, 'down', '-v', '--remove-orphans'], check=False, capture_output=True)


async def stack_row(user: User, name: str, predicate: Callable[[dict], bool]) -> dict:
    """The /stacks table's row of ``name``, once ``predicate`` holds for it."""

    def row() -> dict | None:
        rows = [row for table in user.find(ui.table).elements for row in table.rows]  # type: ignore[attr-defined]
        return next((row for row in rows if row['name'] == name), None)

    await eventually(lambda: (found := row()) is not None and predicate(found), 20, f'{name} in the stacks table')
    found = row()
    assert found is not None
    return found


def editor(user: User, marker: str) -> ui.codemirror:
    found = user.find(marker=marker).elements
    assert len(found) == 1, found
    element = found.pop()
    assert isinstance(element, ui.codemirror)
    return element


async def open_new_stack(user: User, name: str) -> None:
    await user.open('/stacks')
    user.find(kind=ui.button, content='New stack').click()
    await user.should_see(marker='stack-name', retries=20)
    user.find(marker='stack-name').type(name)
    user.find(kind=ui.button, content='Create').click()
    await user.should_see('compose.yaml', retries=50)


async def test_write_deploy_edit_redeploy_and_roll_back(user: User, project: str) -> None:
    await sign_in(user)
    # Given a two-service stack written in the page
    await open_new_stack(user, project)
    editor(user, 'compose').value = TWO_SERVICES
    # When it is deployed
    user.find(kind=ui.button, content='Deploy').click()
    # Then its containers appear, live on the page too
    await eventually(lambda: len(containers(project)) == 2, 60, 'two containers of the stack')
    await user.should_see('running 2 of 2', retries=100)
    # And the deployment log showed each service's steps
    await user.should_see('Creating → Created → Starting → Started', retries=50)
    await user.should_see('v1 · ', retries=50)
    first = containers(project)
    # When one service is edited and the stack deployed again
    editor(user, 'compose').value = TWO_SERVICES.replace('3601', '3602')
    user.find('Version message').type('db sleeps longer')
    user.find(kind=ui.button, content='Deploy').click()
    # Then only that service's container is made again
    await eventually(lambda: containers(project).get('db', '').split()[0] != first['db'].split()[0], 60, 'db recreated')
    second = containers(project)
    assert second['web'] == first['web']
    assert command_of(second['db']) == 'sleep 3602'
    await user.should_see('db sleeps longer', retries=50)
    # And rolling back to the first version deploys it again, as a new version
    user.find(kind=ui.button, marker='', content='Roll back').click()
    await eventually(lambda: command_of(containers(project).get('db', 'x')) == 'sleep 3601', 60, 'db rolled back')
    assert containers(project)['web'] == first['web']
    await user.should_see('roll back to v1', retries=50)


async def test_validate_names_the_line_of_invalid_yaml_and_unknown_keys(user: User, project: str) -> None:
    await sign_in(user)
    await open_new_stack(user, project)
    # When the YAML is broken on line 4
    editor(user, 'compose').value = f'services:\n  web:\n    image: {BUSYBOX}\n   command: [a\n'
    user.find(kind=ui.button, content='Validate').click()
    await user.should_see('line 4: invalid YAML', retries=50)
    # When a service has a key compose does not know, on line 5
    editor(user, 'compose').value = f'services:\n  web:\n    image: {BUSYBOX}\n  db:\n    imagee: {BUSYBOX}\n'
    user.find(kind=ui.button, content='Validate').click()
    await user.should_see('line 5: services.db: unknown key imagee', retries=50)
    # And Deploy says the same and deploys nothing
    user.find(kind=ui.button, content='Deploy').click()
    await user.should_see('line 5: services.db: unknown key imagee', retries=50)
    assert containers(project) == {}


async def test_an_operator_is_refused_a_privileged_service_naming_it(user: User, project: str, data_dir: Path) -> None:
    password = secrets.token_urlsafe(12)
    Accounts(SQLiteDatabase(data_dir / 'berth.sqlite3')).create('olga', password, 'operator')
    await sign_in(user, 'olga', password)
    await open_new_stack(user, project)
    editor(user, 'compose').value = TWO_SERVICES + '    privileged: true\n'
    user.find(kind=ui.button, content='Deploy').click()
    await user.should_see(
        f'The stack {project} is refused: service db: privileged: true — privileged mode needs the admin role.',
        retries=50,
    )
    assert containers(project) == {}
    entries = AuditLog(SQLiteDatabase(data_dir / 'berth.sqlite3')).entries(action='stack.deploy')
    assert next(entry.result for entry in entries if entry.target == project).startswith('refused: ')


async def test_a_stack_made_outside_berth_is_listed_and_adopted(
    user: User, project: str, tmp_path: Path, data_dir: Path, docker_client: docker.DockerClient
) -> None:
    # Given a stack brought up with the compose binary from a directory of its own, with a .env beside it
    folder = tmp_path / 'outside'
    folder.mkdir()
    (folder / 'compose.yaml').write_text(TWO_SERVICES.replace('"3600"]', '"${NAP}"]\n    env_file: [./config/web.env]'))
    (folder / '.env').write_text('NAP=3700\nAPI_TOKEN=hunter2\n')
    (folder / 'config').mkdir()
    (folder / 'config' / 'web.env').write_text('GREETING=hello\n')
    subprocess.run(
        [compose_binary(), '-p', project, '-f', str(folder / 'compose.yaml'), 'up', '-d'],
        check=True, capture_output=True,
    )  # fmt: skip
    await sign_in(user)
    # Then /stacks lists it as external, with its status
    await user.open('/stacks')
    row = await stack_row(user, project, lambda row: row['status'] == 'running 2 of 2')
    assert row['source'] == 'external' and row['services'] == ['db', 'web'] and row['images'] == [BUSYBOX]
    # When it is adopted from its page
    await user.open(f'/stacks/{project}')
    user.find(kind=ui.button, content='Adopt').click()
    # Then its files are Berth's: the compose file in the editor, the secret-looking .env value masked
    await user.should_see('Adopted', retries=50)
    assert '${NAP}' in editor(user, 'compose').value
    assert editor(user, 'env').value == 'NAP=3700\nAPI_TOKEN=••••••••\n'
    await user.should_see('managed')
    # And the env file it names beside it was copied too: a deploy from Berth's copy finds it
    assert (data_dir / 'stacks' / project / 'config' / 'web.env').read_text() == 'GREETING=hello\n'
    (folder / 'config' / 'web.env').write_text('GREETING=changed\n')  # the original no longer counts
    user.find(kind=ui.button, content='Deploy').click()
    await user.should_see('succeeded', retries=200)
    web = containers(project)['web'].split()[0]
    assert 'GREETING=hello' in docker_client.containers.get(web).attrs['Config']['Env']


@pytest.fixture(scope='module')
def private_image(docker_client: docker.DockerClient) -> Iterator[str]:
    """An image that lives only in a local registry that asks for a login (not on this engine before the test)."""
    require_insecure_loopback(docker_client)
    with LocalRegistry(with_auth=True) as registry:
        tag = uuid.uuid4().hex[:8]
        local = f'berth-test/berth-s3-private:{tag}'
        build_layered_image(docker_client, local, [0.2])
        login = {'username': USERNAME, 'password': PASSWORD}
        reference = push_and_forget(docker_client, local, registry.address, f'berth-s3/private:{tag}', login)
        yield reference
        forget_locally(reference)


async def test_a_stack_pulls_from_a_registry_with_the_credentials_saved_for_it(
    user: User, private_image: str, data_dir: Path
) -> None:
    project = f'berth-s3-{uuid.uuid4().hex[:8]}'
    try:
        await sign_in(user)
        # Given the registry's login saved in the panel (as a pull that saves it does)
        box = SecretBox((data_dir / KEY_FILE).read_bytes().strip())
        registry = private_image.split('/', 1)[0]
        RegistryCredentials(SQLiteDatabase(data_dir / 'berth.sqlite3'), box).save(registry, USERNAME, PASSWORD, 'admin')
        # When a stack whose image is only in that registry is deployed from the page
        await open_new_stack(user, project)
        editor(
            user, 'compose'
        ).value = f'services:\n  app:\n    image: {private_image}\n    command: ["sleep", "600"]\n'
        user.find(kind=ui.button, content='Deploy').click()
        # Then compose pulled it with that login and the stack runs
        await user.should_see('running 1 of 1', retries=200)
        # And the audit names the registry whose login went with the job, never the login
        entries = AuditLog(SQLiteDatabase(data_dir / 'berth.sqlite3')).entries(action='stack.deploy')
        entry = next(entry for entry in entries if entry.target == project and entry.result.startswith('queued'))
        assert json.loads(entry.params)['credentials'] == [registry]
        assert PASSWORD not in entry.params
    finally:
        subprocess.run([compose_binary(), '-p', project, 'down', '--remove-orphans'], check=False, capture_output=True)
