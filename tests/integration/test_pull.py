"""Pulls through the panel from a real local registry: live per-layer progress, failures in the registry's words,
cancel, and registry credentials that never show up in clear anywhere the panel writes."""

from __future__ import annotations

import itertools
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import docker
import pytest
import redis
from cryptography.fernet import Fernet

from core.errors import CommandError
from core.jobs.store import Job, JobUpdate
from core.permissions import Forbidden
from core.settings import Settings
from system import Services, build
from tests.support import free_port
from tests.support.eventually import eventually
from tests.support.registry import (
    PASSWORD,
    USERNAME,
    LocalRegistry,
    ThrottledProxy,
    build_layered_image,
    forget_locally,
    push_and_forget,
    require_insecure_loopback,
)
from tests.support.worker import dramatiq_worker

from .conftest import OPERATOR, VIEWER


async def finished(services: Services, job: Job, timeout: float = 60) -> Job:
    await eventually(
        lambda: services.jobs.jobs[job.job_id].status in ('succeeded', 'failed'),
        timeout=timeout,
        what=f'{job.kind} {job.target_name} to finish',
    )
    return services.jobs.jobs[job.job_id]


def present(reference: str) -> bool:
    return subprocess.run(['docker', 'image', 'inspect', reference], check=False, capture_output=True).returncode == 0


@pytest.fixture
def throttled(registry: LocalRegistry, absent: str) -> Iterator[str]:
    """The pushed image through a proxy at 6 MB/s: on loopback a 3 MB layer downloads within one 0.1 s progress
    tick, which would hide the Downloading phase; a little latency is also what a real registry has."""
    proxy = ThrottledProxy(registry.port, 6_000_000)
    reference = absent.replace(registry.address, proxy.address)
    forget_locally(reference)
    yield reference
    proxy.close()
    forget_locally(reference)


async def test_pull_shows_real_per_layer_progress_then_succeeds(services: Services, throttled: str) -> None:
    absent = throttled
    updates: list[JobUpdate] = []
    services.jobs.subscribe(lambda job, update: updates.append(update))
    # When an operator pulls an image whose layers this engine does not have
    job = await services.commands.pull_image(OPERATOR, absent)
    done = await finished(services, job)
    # Then the job succeeded, with the daemon's own closing words
    assert done.status == 'succeeded', done.message
    assert done.message.startswith('downloaded newer image') and '3 new layers' in done.message
    # And progress came per layer, with real byte counts, while downloading and while extracting
    progress = [update for update in updates if update.job_id == job.job_id and update.status == 'progress']
    assert progress, 'no progress messages'
    seen = {
        (layer['status'], layer['current'] > 0, layer['total'] > 0)
        for update in progress
        for layer in (update.detail or {}).get('layers', [])
    }
    assert ('Downloading', True, True) in seen and ('Extracting', True, True) in seen, seen
    fractions = [update.progress for update in progress if update.progress is not None]
    assert fractions == sorted(fractions) and 0 <= fractions[0] <= fractions[-1] <= 1
    final_layers = done.detail['layers']
    assert sum(1 for layer in final_layers if layer['status'] == 'Pull complete') == 3
    assert done.progress == 1.0
    # coalesced: never more than ~10 messages a second (the tick is 0.1 s)
    stamps = [update.at for update in progress]
    assert all(later - earlier >= 0.08 for earlier, later in itertools.pairwise(stamps))
    # And the output keeps the status lines, the image is on the engine, and the state saw it through events
    assert any(line.endswith(': Pull complete') for line in done.output)
    assert present(absent)
    await eventually(lambda: services.state.find_image(absent) is not None, what='image in state')
    queued = [
        entry
        for entry in services.audit.entries(username='olga', action='image.pull')
        if entry.result.startswith('queued')
    ]
    assert queued[0].target == absent and '"credentials": "none"' in queued[0].params


async def test_malformed_reference_is_a_sentence_and_nothing_is_queued(services: Services) -> None:
    with pytest.raises(CommandError) as refused:
        await services.commands.pull_image(OPERATOR, 'ngin x')
    assert str(refused.value) == "image reference 'ngin x' is not valid: spaces are not allowed"
    assert not services.jobs.jobs


async def test_a_viewer_cannot_pull(services: Services, pushed_image: str) -> None:
    with pytest.raises(Forbidden, match='needs the operator role'):
        await services.commands.pull_image(VIEWER, pushed_image)
    assert not services.jobs.jobs
    assert services.audit.entries(username='victor')[0].result.startswith('refused:')


async def test_missing_tag_fails_with_the_registry_message(services: Services, pushed_image: str) -> None:
    missing = pushed_image.rsplit(':', 1)[0] + ':no-such-tag'
    done = await finished(services, await services.commands.pull_image(OPERATOR, missing))
    assert done.status == 'failed'
    assert 'manifest unknown' in done.message and 'Traceback' not in done.message


async def test_unreachable_registry_fails_with_the_daemon_message(services: Services) -> None:
    reference = f'127.0.0.1:{free_port()}/nobody/here:1'
    done = await finished(services, await services.commands.pull_image(OPERATOR, reference))
    assert done.status == 'failed' and 'connection refused' in done.message


@pytest.fixture
def slow_image(docker_client: docker.DockerClient, registry: LocalRegistry) -> Iterator[str]:
    """An image ~9 MB behind a proxy that lets 1.5 MB/s through: a pull takes about six seconds."""
    local = f'berth-test/pull-build:{uuid.uuid4().hex[:8]}'
    build_layered_image(docker_client, local, [3, 3, 3])
    proxy = ThrottledProxy(registry.port, 1_500_000)
    remote = push_and_forget(docker_client, local, registry.address, f'berth-test/slow:{uuid.uuid4().hex[:8]}')
    through_proxy = remote.replace(registry.address, proxy.address)
    yield through_proxy
    proxy.close()
    forget_locally(through_proxy)


async def test_cancel_stops_the_pull(services: Services, slow_image: str) -> None:
    # Given a pull that is downloading
    job = await services.commands.pull_image(OPERATOR, slow_image)
    await eventually(
        lambda: any(
            layer['status'] == 'Downloading' for layer in services.jobs.jobs[job.job_id].detail.get('layers', [])
        ),
        what='downloading',
    )
    # When the operator cancels it
    services.commands.cancel_job(OPERATOR, job.job_id)
    # Then the job fails as cancelled, quickly, and the image did not arrive
    done = await finished(services, job, timeout=5)
    assert (done.status, done.message) == ('failed', 'cancelled by olga')
    assert not present(slow_image)
    assert services.audit.entries(username='olga', action='job.cancel')[0].result == 'requested'
    with pytest.raises(CommandError, match='already failed'):
        services.commands.cancel_job(OPERATOR, job.job_id)


@pytest.fixture(scope='module')
def private_image(docker_client: docker.DockerClient) -> Iterator[str]:
    """An image in a registry that wants a username and password."""
    require_insecure_loopback(docker_client)
    with LocalRegistry(with_auth=True) as private:
        local = f'berth-test/pull-build:{uuid.uuid4().hex[:8]}'
        build_layered_image(docker_client, local, [1])
        remote = push_and_forget(
            docker_client,
            local,
            private.address,
            f'team/private:{uuid.uuid4().hex[:8]}',
            auth_config={'username': USERNAME, 'password': PASSWORD},
        )
        yield remote
        forget_locally(remote)


async def test_credentials_entered_saved_and_reused_without_showing_in_clear(
    services: Services, private_image: str, tmp_path: Path
) -> None:
    forget_locally(private_image)
    registry_address = private_image.split('/', 1)[0]
    # Without credentials, and with a wrong password, the registry refuses, in its own words
    refused = await finished(services, await services.commands.pull_image(OPERATOR, private_image))
    assert refused.status == 'failed' and 'no basic auth credentials' in refused.message
    wrong = await finished(
        services,
        await services.commands.pull_image(OPERATOR, private_image, username=USERNAME, password='wrong password'),
    )
    assert wrong.status == 'failed' and 'unauthorized' in wrong.message.lower()
    # With the right ones, ticked "save for this registry", it works and the credentials are kept, encrypted
    done = await finished(
        services,
        await services.commands.pull_image(OPERATOR, private_image, username=USERNAME, password=PASSWORD, save=True),
    )
    assert done.status == 'succeeded', done.message
    assert [saved.registry for saved in services.credentials.saved()] == [registry_address]
    # And the next pull without typing them uses the saved ones
    forget_locally(private_image)
    again = await finished(services, await services.commands.pull_image(OPERATOR, private_image))
    assert again.status == 'succeeded', again.message
    queued = [
        entry
        for entry in services.audit.entries(username='olga', action='image.pull')
        if entry.result.startswith('queued')
    ]
    assert '"credentials": "saved"' in queued[0].params
    # The password is nowhere in clear: database (audit, jobs, saved credentials), data dir files
    data_dir = services.settings.data_dir
    for path in data_dir.rglob('*'):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), f'password in clear in {path}'
    assert oct((data_dir / 'secret.key').stat().st_mode & 0o777) == '0o600'
    # Forgetting them is audited, and the next pull without credentials is refused again
    assert services.commands.forget_credentials(OPERATOR, registry_address)
    forget_locally(private_image)
    final = await finished(services, await services.commands.pull_image(OPERATOR, private_image))
    assert final.status == 'failed'


@pytest.fixture
def secret_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def redis_worker(redis_url: str, secret_key: str, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`dramatiq tasks` with its own data dir: it opens sealed credentials only through the shared secret key."""
    with dramatiq_worker(
        REDIS_URL=redis_url, BERTH_SECRET_KEY=secret_key, BERTH_DATA_DIR=str(tmp_path / 'worker-data')
    ) as process:
        yield process


@pytest.fixture
async def redis_panel(tmp_path: Path, redis_url: str, secret_key: str) -> AsyncIterator[Services]:
    running = build(Settings(data_dir=tmp_path / 'data', redis_url=redis_url, secret_key=secret_key))
    await running.start()
    await eventually(lambda: running.state.engine_ok, what='engine connected')
    yield running
    await running.stop()


async def test_with_redis_a_worker_process_pulls_with_sealed_credentials_and_cancels(
    redis_panel: Services, redis_worker: subprocess.Popen[bytes], private_image: str, slow_image: str, redis_url: str
) -> None:
    services = redis_panel
    forget_locally(private_image)
    # credentials travel sealed through Redis; the worker opens them with the shared BERTH_SECRET_KEY
    done = await finished(
        services, await services.commands.pull_image(OPERATOR, private_image, username=USERNAME, password=PASSWORD)
    )
    assert done.status == 'succeeded', done.message
    assert done.detail['layers'] and done.progress == 1.0  # progress came back over pub/sub
    # cancelling goes through a Redis key the worker process looks at
    job = await services.commands.pull_image(OPERATOR, slow_image)
    await eventually(
        lambda: any(
            layer['status'] == 'Downloading' for layer in services.jobs.jobs[job.job_id].detail.get('layers', [])
        ),
        timeout=30,
        what='downloading in the worker process',
    )
    services.commands.cancel_job(OPERATOR, job.job_id)
    cancelled = await finished(services, job, timeout=10)
    assert (cancelled.status, cancelled.message) == ('failed', 'cancelled by olga')
    assert not present(slow_image)
    client = redis.Redis.from_url(redis_url)
    for key in client.keys('*'):
        kind = client.type(key)
        values = (
            [client.get(key)]
            if kind == b'string'
            else client.hvals(key)
            if kind == b'hash'
            else client.lrange(key, 0, -1)
            if kind == b'list'
            else []
        )
        assert not [value for value in values if value and PASSWORD.encode() in value], key
    client.close()
    forget_locally(private_image)
