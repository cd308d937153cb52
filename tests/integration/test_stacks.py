"""Stack actions against the real engine with the real Compose v2: the actor's own policy check, Update recreating only
the service whose image changed in a real registry, Down removing volumes when asked."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator

import docker
import pytest

from core.jobs.store import Job
from core.permissions import Forbidden, Identity, Permission
from core.stacks.actions import StackAction
from core.stacks.compose import find_compose
from core.stacks.store import StackFiles
from system import Services
from tests.support import BUSYBOX
from tests.support.eventually import eventually
from tests.support.registry import LocalRegistry, build_layered_image, push_and_forget

from .conftest import OPERATOR
from .test_create import finished

ADMIN = Identity(username='ada', role='admin', address='127.0.0.1')


@pytest.fixture
def project() -> Iterator[str]:
    name = f'bst-{uuid.uuid4().hex[:8]}'
    yield name
    compose = str(find_compose().path)
    subprocess.run([compose, '-p', name, 'down', '-v', '--remove-orphans'], check=False, capture_output=True)


def service_containers(client: docker.DockerClient, project: str) -> dict[str, docker.models.containers.Container]:
    found = client.containers.list(all=True, filters={'label': f'com.docker.compose.project={project}'})
    return {container.labels['com.docker.compose.service']: container for container in found}


async def test_the_actor_refuses_a_privileged_service_of_an_operator_whom_the_command_did_not_check(
    services: Services, project: str, docker_client: docker.DockerClient
) -> None:
    # Given a deploy sent past the command layer's policy check (only dispatch's permission check runs)
    compose = f'services:\n  app:\n    image: {BUSYBOX}\n    command: ["sleep", "600"]\n    privileged: true\n'
    job = await deploy_past_the_command(services, OPERATOR, project, {'compose': compose, 'env': ''})
    # Then the worker refuses it by itself, naming the service and the option, and nothing is made
    done = await finished(services, job, 60)
    assert done.status == 'failed'
    assert done.message == 'refused: service app: privileged: true — privileged mode needs the admin role'
    assert service_containers(docker_client, project) == {}


async def test_the_actor_checks_and_runs_the_signed_normalised_file_not_the_raw_one(
    services: Services, project: str, docker_client: docker.DockerClient
) -> None:
    # Given a signed deploy whose raw file is harmless but whose normalised file (what runs) asks for privileged mode
    harmless = f'services:\n  app:\n    image: {BUSYBOX}\n    command: ["sleep", "600"]\n'
    normalised = json.dumps(
        {'name': project, 'services': {'app': {'image': BUSYBOX, 'command': ['sleep', '600'], 'privileged': True}}}
    )
    job = await deploy_past_the_command(
        services, OPERATOR, project, {'compose': harmless, 'env': '', 'normalised': normalised}
    )
    # Then the worker refuses what would have run, and nothing is made
    done = await finished(services, job, 60)
    assert done.status == 'failed'
    assert done.message == 'refused: service app: privileged: true — privileged mode needs the admin role'
    assert service_containers(docker_client, project) == {}
    # And an admin's deploy runs the normalised file it carries (a label only it has), not the raw file
    labelled = json.dumps(
        {
            'name': project,
            'services': {'app': {'image': BUSYBOX, 'command': ['sleep', '600'], 'labels': {'run': 'normalised'}}},
        }
    )
    job = await deploy_past_the_command(
        services, ADMIN, project, {'compose': harmless, 'env': '', 'normalised': labelled}
    )
    done = await finished(services, job, 60)
    assert done.status == 'succeeded', done.message
    assert service_containers(docker_client, project)['app'].labels.get('run') == 'normalised'


@pytest.fixture
def app_images(docker_client: docker.DockerClient, registry: LocalRegistry, project: str) -> Iterator[tuple[str, str]]:
    """Two images in the local registry under tags of this test's own: (the app's, a sidecar's); every local image
    of those repositories (older ones left untagged by an update too) is removed afterwards."""
    tag = uuid.uuid4().hex[:8]
    pushed = []
    for name in ('app', 'sidecar'):
        local = f'berth-test/stack-{name}:{tag}'
        build_layered_image(docker_client, local, [0.5])
        pushed.append(push_and_forget(docker_client, local, registry.address, f'berth-test/stack-{name}:{tag}'))
    yield pushed[0], pushed[1]
    compose = str(find_compose().path)
    subprocess.run([compose, '-p', project, 'down', '--remove-orphans'], check=False, capture_output=True)
    for reference in pushed:
        repository = reference.rsplit(':', 1)[0]
        for image in docker_client.images.list(all=True):
            if any(digest.startswith(f'{repository}@') for digest in image.attrs.get('RepoDigests') or []):
                subprocess.run(['docker', 'rmi', '-f', image.id], check=False, capture_output=True)


async def test_update_pulls_and_recreates_only_the_service_whose_image_changed(
    services: Services,
    project: str,
    app_images: tuple[str, str],
    docker_client: docker.DockerClient,
    registry: LocalRegistry,
) -> None:
    app, sidecar = app_images
    compose = (
        f'services:\n  app:\n    image: {app}\n    command: ["sleep", "600"]\n'
        f'  sidecar:\n    image: {sidecar}\n    command: ["sleep", "600"]\n'
    )
    # Given the stack deployed from the registry's images (pulled by the deploy, with its layers reported)
    deployed = await finished(
        services, await services.commands.deploy_stack(ADMIN, project, StackFiles(compose=compose)), 120
    )
    assert deployed.status == 'succeeded', deployed.message
    assert pulled_layers(deployed, 'app')
    before = service_containers(docker_client, project)
    # When a new image is pushed under the app's tag (from elsewhere: here the tag still names the old image)
    local = f'berth-test/stack-app-next:{uuid.uuid4().hex[:8]}'
    build_layered_image(docker_client, local, [0.5])
    push_and_forget(docker_client, local, registry.address, app.split('/', 1)[1])
    docker_client.api.tag(before['app'].image.id, *app.rsplit(':', 1))
    # Then the registry check says the app's service has an update, the sidecar's not
    checked = await finished(services, await services.commands.check_updates(ADMIN), 60)
    assert checked.status == 'succeeded', checked.message
    assert services.updates.available('local', app, before['app'].image.id) is True
    assert services.updates.available('local', sidecar, before['sidecar'].image.id) is False
    # And the stack is updated
    updated = await finished(services, await services.commands.stack_action(ADMIN, project, StackAction.UPDATE), 120)
    assert updated.status == 'succeeded', updated.message
    # Then the app's new layer was pulled, and only the app's container was made again, from the new image
    assert pulled_layers(updated, 'app') and not pulled_layers(updated, 'sidecar')
    after = service_containers(docker_client, project)
    assert after['sidecar'].id == before['sidecar'].id
    assert after['app'].id != before['app'].id
    assert after['app'].image.id != before['app'].image.id
    assert 'app: Recreated' in '\n'.join(updated.output)
    # And the app's badge is gone: its new container runs what the registry has
    await eventually(
        lambda: services.updates.available('local', app, after['app'].image.id) is False, what='the badge to clear'
    )


def pulled_layers(job: Job, service: str) -> list[str]:
    for data in job.detail.get('services') or []:
        if data['name'] == service:
            return [layer['id'] for layer in data['layers'] if layer['status'] == 'Pull complete']
    return []


async def test_down_removes_the_volumes_only_when_asked(
    services: Services, project: str, docker_client: docker.DockerClient
) -> None:
    compose = (
        f'services:\n  app:\n    image: {BUSYBOX}\n    command: ["sleep", "600"]\n    volumes: [data:/data]\n'
        'volumes:\n  data: {}\n'
    )
    deployed = await finished(
        services, await services.commands.deploy_stack(ADMIN, project, StackFiles(compose=compose)), 60
    )
    assert deployed.status == 'succeeded', deployed.message
    volume = f'{project}_data'
    docker_client.volumes.get(volume)
    # Down keeps the volume
    down = await finished(services, await services.commands.stack_action(OPERATOR, project, StackAction.DOWN), 60)
    assert down.status == 'succeeded', down.message
    assert service_containers(docker_client, project) == {}
    docker_client.volumes.get(volume)
    # Down with its volumes removes it
    await finished(services, await services.commands.deploy_stack(ADMIN, project, StackFiles(compose=compose)), 60)
    down = await finished(
        services, await services.commands.stack_action(OPERATOR, project, StackAction.DOWN, remove_volumes=True), 60
    )
    assert down.status == 'succeeded', down.message
    with pytest.raises(docker.errors.NotFound):
        docker_client.volumes.get(volume)


@pytest.fixture
def protected_volume(docker_client: docker.DockerClient) -> Iterator[str]:
    name = f'bst-{uuid.uuid4().hex[:8]}-protected'
    docker_client.volumes.create(name, labels={'berth.protected': 'true'})
    yield name
    docker_client.volumes.get(name).remove(force=True)


async def test_an_operator_cannot_mount_berths_protected_volume_into_a_stack(
    services: Services, project: str, protected_volume: str, docker_client: docker.DockerClient
) -> None:
    compose = (
        f'services:\n  app:\n    image: {BUSYBOX}\n    volumes: [data:/data]\n'
        f'volumes:\n  data:\n    external: true\n    name: {protected_volume}\n'
    )
    with pytest.raises(Forbidden) as refused:
        await services.commands.deploy_stack(OPERATOR, project, StackFiles(compose=compose))
    assert str(refused.value) == (
        f'the stack {project} is refused: service app: volumes — mounting {protected_volume} needs the admin role: '
        'Berth protects the data in it'
    )
    assert service_containers(docker_client, project) == {}


async def deploy_past_the_command(services: Services, who: Identity, project: str, files: dict[str, str]) -> Job:
    """A deploy job queued straight through dispatch (its permission check only), carrying ``files`` as it is."""
    return await services.commands.dispatch(
        who,
        permission=Permission.STACK_DEPLOY,
        what='deploy stacks',
        kind=StackAction.DEPLOY.kind,
        target=project,
        target_name=project,
        params={'files': files},
        arguments=(project,),
    )
