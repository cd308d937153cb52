"""Berth's own containers and data are the admins' alone, by every path: create (dispatch and actor), lifecycle,
logs; a body the worker re-checks itself. Against the real engine."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator

import docker
import pytest

from core.commands.spec import ContainerSpec, MountSpec
from core.permissions import Forbidden, Identity
from core.protection import Protection
from system import Services
from tests.support import BUSYBOX
from tests.support.eventually import eventually

from .conftest import OPERATOR
from .test_create import create_skipping_the_command, finished

ADMIN = Identity(username='ada', role='admin', address='127.0.0.1')


@pytest.fixture
def volume() -> Iterator[Callable[..., str]]:
    """Named volumes made with the docker CLI (labels optional); removed afterwards."""
    made: list[str] = []

    def make(*labels: str) -> str:
        name = f'berth-test-{uuid.uuid4().hex[:10]}'
        subprocess.run(
            ['docker', 'volume', 'create', *[f'--label={label}' for label in labels], name],
            check=True,
            capture_output=True,
        )
        made.append(name)
        return name

    yield make
    for name in made:
        subprocess.run(['docker', 'volume', 'rm', '-f', name], capture_output=True)


def spec_mounting(name: str, source: str) -> ContainerSpec:
    return ContainerSpec(
        image=BUSYBOX,
        name=name,
        command=['sleep', '60'],
        labels={'berth-test': '1'},
        mounts=[MountSpec(target='/stolen', source=source, read_only=True)],
    )


async def test_an_operator_cannot_mount_a_protected_volume_by_any_path(
    services: Services,
    volume: Callable[..., str],
    make_container: Callable[..., str],
    docker_client: docker.DockerClient,
) -> None:
    # Given a volume an admin labelled protected, and one that a protected container (the panel's own) mounts
    labelled = volume('berth.protected=true')
    data = volume()
    make_container(labels={'berth.protected': 'true'}, extra=['-v', f'{data}:/data'])
    plain = volume()
    for source in (labelled, data):
        name = f'berth-test-{uuid.uuid4().hex[:10]}'
        # When an operator asks to mount it, Then the command layer refuses with a sentence, audited
        with pytest.raises(Forbidden, match=f'mounting {source} needs the admin role'):
            await services.commands.create_container(OPERATOR, spec_mounting(name, source))
        assert services.audit.entries(username='olga', action='container.create')[0].result.startswith('refused')
        # and a job that skipped the command layer is refused by the actor, which looks the volumes up itself
        job = await create_skipping_the_command(services, OPERATOR, name, spec_mounting(name, source).to_dict())
        done = await finished(services, job)
        assert (done.status, done.message) == (
            'failed',
            f'refused: mounting {source} needs the admin role: Berth protects the data in it',
        )
        assert not docker_client.containers.list(all=True, filters={'name': name})
    # (control: an operator mounts an ordinary volume, so the refusals above are about protection) and an admin
    # may mount a protected one
    for identity, source in ((OPERATOR, plain), (ADMIN, labelled)):
        name = f'berth-test-{uuid.uuid4().hex[:10]}'
        done = await finished(services, await services.commands.create_container(identity, spec_mounting(name, source)))
        subprocess.run(['docker', 'rm', '-f', name], capture_output=True)
        assert done.status == 'succeeded', done.message


async def test_berth_labels_are_admin_only(services: Services) -> None:
    spec = ContainerSpec(image=BUSYBOX, labels={'berth.owner': 'someone-else'})
    with pytest.raises(Forbidden, match=r"Berth's own labels \(berth.owner\) need the admin role"):
        await services.commands.create_container(OPERATOR, spec)


async def test_lifecycle_of_a_protected_container_needs_an_admin(
    services: Services, make_container: Callable[..., str], docker_client: docker.DockerClient
) -> None:
    name = make_container(labels={'berth.protected': 'true'})
    await eventually(lambda: services.state.find(name) is not None, what='appears')
    row = services.state.find(name)
    assert row is not None
    with pytest.raises(Forbidden, match='needs the admin role'):
        await services.commands.container_action(OPERATOR, 'kill', row.id)
    assert docker_client.api.inspect_container(name)['State']['Running']
    job = await services.commands.container_action(ADMIN, 'kill', row.id)
    assert (await finished(services, job)).status == 'succeeded'


async def test_the_panel_finds_its_own_container_and_protects_its_project(
    services: Services, make_container: Callable[..., str]
) -> None:

    # Given a container of a compose project, seen as the panel's own container
    own = make_container(labels={'com.docker.compose.project': 'berth-own-test'})
    sibling = make_container(labels={'com.docker.compose.project': 'berth-own-test'})
    stranger = make_container(labels={'com.docker.compose.project': 'someone-else'})
    client = docker.DockerClient(base_url='unix:///var/run/docker.sock')
    try:
        own_id = client.api.inspect_container(own)['Id']
        found = Protection.discover(client, own_id)
        rows = {name: client.api.inspect_container(name) for name in (own, sibling, stranger)}
    finally:
        client.close()
    # Then its own container and the project's others are protected, a stranger's not
    protected = {
        name: found.container_is_protected(data['Id'], data['Config']['Labels']) for name, data in rows.items()
    }
    assert protected == {own: True, sibling: True, stranger: False}
