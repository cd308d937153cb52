"""Images against the real engine: the state follows image events; remove, tag and prune go through the one
dispatch path and the daemon does what the user confirmed, nothing more."""

from __future__ import annotations

import io
import subprocess
import uuid
from collections.abc import Callable, Iterator

import docker
import pytest

from core.errors import CommandError
from core.jobs.store import Job
from core.permissions import Forbidden
from core.state.images import prune_candidates
from system import Services
from tests.support import BUSYBOX
from tests.support.eventually import eventually

from .conftest import OPERATOR, VIEWER

MakeImage = Callable[[str], str]


async def finished(services: Services, job: Job, timeout: float = 30) -> Job:
    await eventually(
        lambda: services.jobs.jobs[job.job_id].status in ('succeeded', 'failed'),
        timeout=timeout,
        what=f'{job.kind} {job.target_name} to finish',
    )
    return services.jobs.jobs[job.job_id]


@pytest.fixture
def make_image(docker_client: docker.DockerClient) -> Iterator[MakeImage]:
    """Builds a tiny image FROM busybox (a unique label, so a new image id) under ``tag``; removes it afterwards."""
    made: list[str] = []

    def make(tag: str) -> str:
        dockerfile = f'FROM {BUSYBOX}\nLABEL berth-test-nonce={uuid.uuid4().hex}\n'.encode()
        image, _ = docker_client.images.build(fileobj=io.BytesIO(dockerfile), tag=tag, rm=True)
        made.append(str(image.id))
        return str(image.id)

    yield make
    for image_id in made:
        subprocess.run(['docker', 'rmi', '-f', image_id], check=False, capture_output=True)


def unique_tag(name: str = 'images') -> str:
    return f'berth-test/{name}:{uuid.uuid4().hex[:8]}'


async def test_image_events_reach_the_state(services: Services, make_image: MakeImage) -> None:
    # When an image is built and tagged with the plain CLI, the state shows it with its tags
    tag = unique_tag()
    image_id = make_image(tag)
    await eventually(lambda: image_id in services.state.images, what='built image in state')
    extra = unique_tag('extra')
    subprocess.run(['docker', 'tag', tag, extra], check=True, capture_output=True)
    await eventually(lambda: services.state.images[image_id].tags == sorted([tag, extra]), what='second tag')
    # And a container from it counts as a user of that image
    name = f'berth-test-{uuid.uuid4().hex[:8]}'
    try:
        subprocess.run(
            ['docker', 'create', '--label', 'berth-test=1', '--name', name, tag], check=True, capture_output=True
        )
        await eventually(lambda: services.state.containers_using().get(image_id) == 1, what='one container uses it')
    finally:
        subprocess.run(['docker', 'rm', '-f', name], check=False, capture_output=True)
    # When a tag is removed, and then the image, the state follows
    subprocess.run(['docker', 'rmi', extra], check=True, capture_output=True)
    await eventually(lambda: services.state.images[image_id].tags == [tag], what='tag gone')
    subprocess.run(['docker', 'rmi', tag], check=True, capture_output=True)
    await eventually(lambda: image_id not in services.state.images, what='image gone')


async def test_tag_and_remove_through_the_panel(
    services: Services, make_image: MakeImage, docker_client: docker.DockerClient
) -> None:
    tag = unique_tag()
    image_id = make_image(tag)
    await eventually(lambda: image_id in services.state.images, what='in state')
    # When an operator tags it, the engine has the tag and the state shows it (through events)
    extra = unique_tag('tagged')
    done = await finished(services, await services.commands.tag_image(OPERATOR, image_id, extra))
    assert (done.status, done.message) == ('succeeded', f'tagged as {extra}')
    await eventually(lambda: extra in services.state.images[image_id].tags, what='new tag in state')
    # A malformed tag is a sentence, and nothing is queued
    with pytest.raises(CommandError, match="image reference 'Bad Tag' is not valid: spaces are not allowed"):
        await services.commands.tag_image(OPERATOR, image_id, 'Bad Tag')
    # Removing an image with two tags needs force: the daemon says so
    refused = await finished(services, await services.commands.remove_image(OPERATOR, image_id))
    assert refused.status == 'failed' and 'must be forced' in refused.message
    done = await finished(services, await services.commands.remove_image(OPERATOR, image_id, force=True))
    assert done.status == 'succeeded' and any(line.startswith('Deleted: ') for line in done.output)
    await eventually(lambda: image_id not in services.state.images, what='gone from state')
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(image_id)


async def test_prune_removes_exactly_the_confirmed_images(
    services: Services, make_image: MakeImage, docker_client: docker.DockerClient
) -> None:
    # Given two images of ours left dangling by rebuilding the same tag (and maybe other people's dangling images)
    tag = unique_tag('prune')
    ours = [make_image(tag), make_image(tag)]
    make_image(tag)  # the current one keeps the tag
    await eventually(
        lambda: all(
            image_id in services.state.images and services.state.images[image_id].dangling for image_id in ours
        ),
        what='two dangling images in state',
    )
    others = [row.id for row in services.state.images.values() if row.dangling and row.id not in ours]
    candidates = prune_candidates(services.state.images.values(), set(services.state.containers_using()), unused=False)
    assert set(ours) <= {row.id for row in candidates}
    # When the operator confirms the prune of exactly those two
    done = await finished(services, await services.commands.prune_images(OPERATOR, 'dangling', ours))
    # Then they are gone, the message says how much came back, and nobody else's images were touched
    assert done.status == 'succeeded' and done.message.startswith('removed 2 images, ') and 'reclaimed' in done.message
    await eventually(lambda: not set(ours) & set(services.state.images), what='pruned from state')
    for image_id in others:
        docker_client.images.get(image_id)


async def test_prune_refuses_a_list_that_no_longer_holds(services: Services, make_image: MakeImage) -> None:
    tagged = make_image(unique_tag('kept'))
    await eventually(lambda: tagged in services.state.images, what='in state')
    with pytest.raises(CommandError, match='no longer qualifies'):
        await services.commands.prune_images(OPERATOR, 'dangling', [tagged])
    busybox = services.state.find_image(BUSYBOX)
    assert busybox is not None
    assert busybox.id not in {
        row.id
        for row in prune_candidates(services.state.images.values(), set(services.state.containers_using()), unused=True)
    } or not services.state.containers_using().get(busybox.id)
    assert not services.jobs.jobs


async def test_a_viewer_changes_no_image(
    services: Services, make_image: MakeImage, docker_client: docker.DockerClient
) -> None:
    tag = unique_tag()
    image_id = make_image(tag)
    await eventually(lambda: image_id in services.state.images, what='in state')
    for attempt in (
        services.commands.remove_image(VIEWER, image_id, force=True),
        services.commands.tag_image(VIEWER, image_id, unique_tag('nope')),
        services.commands.prune_images(VIEWER, 'unused', [image_id]),
    ):
        with pytest.raises(Forbidden, match='needs the operator role'):
            await attempt
    assert docker_client.images.get(image_id).tags == [tag]
    assert not services.jobs.jobs
    assert [entry.result[:8] for entry in services.audit.entries(username='victor')] == ['refused:'] * 3
