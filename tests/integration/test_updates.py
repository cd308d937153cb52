"""Image update checks against the real engine and a real local registry (with and without a password): a tag pushed
again is an update, a pull clears it, digest-pinned and local-only images are skipped; the schedule runs the check in
a `dramatiq tasks` worker through Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import docker
import pytest

from core.jobs.store import Job
from core.permissions import Forbidden
from core.settings import Settings
from core.updates.check import KIND, UpdateStatus
from system import Services, build
from tests.support import BUSYBOX
from tests.support.eventually import eventually
from tests.support.moving_tag import MovingTag
from tests.support.registry import PASSWORD, USERNAME, LocalRegistry, forget_locally, require_insecure_loopback
from tests.support.worker import dramatiq_worker

from .conftest import OPERATOR, VIEWER

PREFIX = 'bup'


async def finished(services: Services, job: Job, timeout: float = 60) -> Job:
    await eventually(
        lambda: services.jobs.jobs[job.job_id].status in ('succeeded', 'failed'),
        timeout=timeout,
        what=f'{job.kind} {job.target_name} to finish',
    )
    return services.jobs.jobs[job.job_id]


@pytest.fixture
def images(docker_client: docker.DockerClient, registry: LocalRegistry) -> Iterator[MovingTag]:
    made = MovingTag(docker_client, registry, prefix=PREFIX)
    yield made
    made.close()


@pytest.fixture(scope='module')
def private_registry(docker_client: docker.DockerClient) -> Iterator[LocalRegistry]:
    require_insecure_loopback(docker_client)
    with LocalRegistry(with_auth=True) as running:
        yield running


@pytest.fixture
def private_images(docker_client: docker.DockerClient, private_registry: LocalRegistry) -> Iterator[MovingTag]:
    made = MovingTag(docker_client, private_registry, prefix=PREFIX, auth={'username': USERNAME, 'password': PASSWORD})
    yield made
    made.close()


async def in_state(services: Services, name: str) -> None:
    await eventually(lambda: services.state.find(name) is not None, what=f'container {name} in the live state')


async def test_a_tag_pushed_again_is_an_update_until_pulled_and_pinned_or_local_images_are_skipped(
    services: Services, images: MovingTag
) -> None:
    updates = services.updates
    # Given an image pushed, pulled by tag, and a container made from it
    images.push()
    old_image = images.pull()
    web = images.container(images.reference)
    await in_state(services, web)
    row = services.state.find(web)
    assert row is not None
    # When an operator checks, the registry names what was pulled: no update
    done = await finished(services, await services.commands.check_updates(OPERATOR))
    assert done.status == 'succeeded', done.message
    assert f'{images.reference}: up to date' in done.output
    assert updates.available('local', images.reference) is False
    assert updates.available('local', row.image, row.image_id) is False
    # And the check was a job of the operator's, audited
    audited = [entry for entry in services.audit.entries(username='olga') if entry.action == KIND]
    assert any(entry.result.startswith('queued job') for entry in audited)
    # When another image is pushed under the same tag, the next check says an update is available
    images.push(again=True)
    heard: list[frozenset[str]] = []
    updates.subscribe(lambda endpoint, references: heard.append(references))
    done = await finished(services, await services.commands.check_updates(OPERATOR))
    assert done.status == 'succeeded', done.message
    assert any(images.reference in references for references in heard)  # pages heard of it
    assert updates.available('local', images.reference) is True
    assert updates.available('local', row.image, row.image_id) is True
    info = updates.status('local', images.reference)
    assert info is not None and info.remote_digest.startswith('sha256:') and info.checked_at > 0
    # When the tag is pulled, the reference's badge clears (from the image event); the container still runs the
    # old image until it is made again
    new_image = images.pull()
    assert new_image != old_image
    await eventually(lambda: updates.available('local', images.reference) is False, what='the badge to clear')
    assert updates.available('local', row.image, old_image) is True
    recreated = images.container(images.reference)
    await in_state(services, recreated)
    fresh = services.state.find(recreated)
    assert fresh is not None and updates.available('local', fresh.image, fresh.image_id) is False
    # Digest-pinned and local-only references are skipped: no verdict, and the registry was not asked
    digest = next(entry for entry in services.state.images[old_image].digests).rsplit('@', 1)[1]
    pinned = images.container(f'{images.repository}@{digest}')
    local = images.container(BUSYBOX)
    await in_state(services, pinned)
    await in_state(services, local)
    done = await finished(services, await services.commands.check_updates(OPERATOR))
    statuses = {line.split(': ', 1)[0]: line.split(': ', 1)[1] for line in done.output}
    assert statuses[f'{images.repository}@{digest}'] == 'not checked: pinned to a digest'
    assert statuses[BUSYBOX].startswith('not checked: built or loaded here')
    for reference in (f'{images.repository}@{digest}', BUSYBOX):
        assert updates.available('local', reference) is None


async def test_saved_credentials_are_used_and_a_registry_that_refuses_is_a_sentence(
    services: Services, private_images: MovingTag
) -> None:
    images = private_images
    registry = images.registry.address
    images.push()
    images.pull()
    await in_state(services, images.container(images.reference))
    # Without saved credentials the check says why it cannot know, in a sentence, never a traceback
    done = await finished(services, await services.commands.check_updates(OPERATOR))
    assert done.status == 'succeeded', done.message
    assert f'{images.reference}: not known: the registry {registry} wants a username and password' in '\n'.join(
        done.output
    )
    assert services.updates.available('local', images.reference) is None
    # With the credentials saved (as a pull with "save for this registry" does), it asks with them
    services.credentials.save(registry, USERNAME, PASSWORD, 'olga')
    images.push(again=True)
    done = await finished(services, await services.commands.check_updates(OPERATOR))
    assert services.updates.available('local', images.reference) is True, list(done.output)
    # A wrong password is refused by the registry, in a sentence
    services.credentials.save(registry, USERNAME, 'wrong password', 'olga')
    done = await finished(services, await services.commands.check_updates(OPERATOR))
    assert f'refused the saved credentials of {USERNAME}' in '\n'.join(done.output)
    # The password is not in the audit log
    assert not [entry for entry in services.audit.entries() if PASSWORD in entry.params]


async def test_an_unreachable_registry_is_a_sentence_and_a_viewer_cannot_check(
    services: Services, images: MovingTag
) -> None:
    # Given an image pulled through a second address of the registry, which then goes away
    images.push()
    through_proxy = images.reference.replace(images.registry.address, images.proxy.address)
    images.pull(through_proxy)
    try:
        await in_state(services, images.container(through_proxy))
        images.proxy.close()
        # When it is checked, its line says the registry could not be reached, and nothing is known
        done = await finished(services, await services.commands.update_check(OPERATOR, 'local', [through_proxy]))
        assert done.status == 'succeeded', done.message
        (line,) = done.output
        assert line.startswith(
            f'{through_proxy}: not known: the registry {images.proxy.address} could not be reached'
        ), line
        status = services.updates.status('local', through_proxy)
        assert status is not None and status.status == UpdateStatus.UNKNOWN and status.available is None
    finally:
        forget_locally(through_proxy)
    # A viewer may not ask the registries: refused with a sentence, audited
    with pytest.raises(Forbidden, match='victor is a viewer: check images for updates needs the operator role'):
        await services.commands.check_updates(VIEWER)
    refused = [entry for entry in services.audit.entries(username='victor') if entry.action == KIND]
    assert refused and refused[0].result.startswith('refused')


@pytest.fixture
async def scheduled_panel(tmp_path: Path, redis_url: str) -> AsyncIterator[Services]:
    """Redis mode, checking every 1.2 s (the schedule looks that often)."""
    key = 'a test key for the update checks'
    with dramatiq_worker(REDIS_URL=redis_url, BERTH_SECRET_KEY=key, BERTH_DATA_DIR=str(tmp_path / 'worker')):
        running = build(
            Settings(data_dir=tmp_path / 'data', redis_url=redis_url, secret_key=key, update_check_minutes=0.02)
        )
        await running.start()
        await eventually(lambda: running.state.engine_ok and running.state.synced_at > 0, what='first resync')
        yield running
        await running.stop()


async def test_the_schedule_checks_references_in_use_in_a_worker_process(
    scheduled_panel: Services, images: MovingTag
) -> None:
    services = scheduled_panel
    images.push()
    images.pull()
    images.push(again=True)
    # When a container uses the tag, the schedule finds the reference due and a worker process checks it
    await in_state(services, images.container(images.reference))
    await eventually(
        lambda: services.updates.available('local', images.reference) is True, 30, what='the scheduled check'
    )
    scheduled = [job for job in services.jobs.recent() if job.kind == KIND]
    assert scheduled and {job.requested_by for job in scheduled} == {'(system)'}
    # And its answer is kept in the table for the next start
    rows = services.database.query('SELECT * FROM image_updates WHERE reference = ?', (images.reference,))
    assert rows and rows[0]['status'] == UpdateStatus.AVAILABLE
