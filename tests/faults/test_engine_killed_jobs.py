"""The Docker engine (the test's own, bridge ``btf2``) killed while a pull, a create-and-run and a compose deploy run
on a worker, then started again: each job ends failed with a sentence the job centre shows, none is left running or
runs twice, the state resyncs, and the same three jobs succeed afterwards — the panel is never restarted.

Each job is surely mid-way when the engine dies: the pull comes through a throttled registry and has reported
progress; the create copies an image directory of thousands of files into a new volume (the engine does that inside
the create request) and the volume has begun to fill; the deploy waits on a service that never becomes healthy."""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from playwright.async_api import async_playwright, expect

from core.docker.client import ENGINE_UNREACHABLE
from core.jobs.store import JobStatus
from tests.support.browser import launch_chromium, signed_in_page
from tests.support.engine import OwnEngine, started_engine
from tests.support.eventually import eventually
from tests.support.panel import Panel
from tests.support.redis_server import OwnRedis
from tests.support.registry import LocalRegistry, ThrottledProxy, build_layered_image, push_and_forget
from tests.support.worker import WorkerProcess

from .conftest import engine_back, kill_engine, started_worker
from .harness import ChannelRecorder, SecondPanel, panel_jobs

BRIDGE, BRIDGE_ADDRESS = 'btf2', '172.31.242.1/24'
PREFIX = 'berth-f2'
MANY_FILES = f'{PREFIX}/many-files:1'
FILES = 12_000  # the create's copy into its volume takes long enough to be caught mid-way
TIMEOUT_MS = 30_000
GATED_STACK = """\
services:
  gate:
    image: berth-test/busybox:latest
    command: ["sleep", "600"]
    network_mode: none
    healthcheck:
      test: ["CMD", "test", "-e", "/tmp/never"]
      interval: 1s
      retries: 600
  app:
    image: berth-test/busybox:latest
    command: ["sleep", "600"]
    network_mode: none
    depends_on:
      gate:
        condition: service_healthy
"""
PLAIN_STACK = """\
services:
  gate:
    image: berth-test/busybox:latest
    command: ["sleep", "600"]
    network_mode: none
"""


@pytest.fixture(scope='module')
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnEngine]:
    """This module's own engine (its own bridge: never the other fault modules' one), with an image of many files."""
    root = tmp_path_factory.mktemp('engine-jobs')
    with started_engine(root, BRIDGE, address=BRIDGE_ADDRESS) as started:
        started.cli('import', '-c', 'ENV PATH=/bin', '-c', 'CMD ["/bin/sh"]', '-', MANY_FILES, input=many_files_image())
        yield started
    subprocess.run(['umount', str(root / 'data')], capture_output=True)


@pytest.fixture(scope='module')
def registry(engine: OwnEngine) -> Iterator[tuple[ThrottledProxy, str]]:
    """A local registry holding an image of two 3 MB layers the engine does not have, behind a proxy holding it to
    100 KB/s; yields the proxy and the reference to pull through it."""
    with LocalRegistry() as started:
        client = docker.DockerClient(base_url=engine.url)
        build_layered_image(client, f'{PREFIX}/layers:1', [3, 3])
        push_and_forget(client, f'{PREFIX}/layers:1', started.address, f'{PREFIX}/layers:1')
        client.close()
        proxy = ThrottledProxy(started.port, 100_000)
        yield proxy, f'{proxy.address}/{PREFIX}/layers:1'
        proxy.close()


@pytest.fixture
def worker(engine: OwnEngine, own_redis: OwnRedis, redis_panel: Panel, tmp_path: Path) -> Iterator[WorkerProcess]:
    """`dramatiq tasks` with three threads: the three jobs run at once."""
    with started_worker(engine, own_redis, redis_panel, tmp_path, threads=3) as process:
        yield process


async def test_the_engine_killed_mid_pull_create_and_deploy_then_back(
    engine: OwnEngine,
    registry: tuple[ThrottledProxy, str],
    own_redis: OwnRedis,
    redis_panel: Panel,
    worker: WorkerProcess,
) -> None:
    proxy, reference = registry
    data = redis_panel.data_dir
    recorder = ChannelRecorder(own_redis.url).start()
    queue = SecondPanel(own_redis.url, data)
    stack = f'{PREFIX}-stack'
    with engine_back(engine):
        # Given a pull under way, a deploy waiting for its gate service, and a create copying files into its volume
        pull = queue.queue('image.pull', reference, reference, (reference, ''), {})
        deploy = queue.queue('stack.deploy', stack, stack, (stack,), {'files': {'compose': GATED_STACK, 'env': ''}})
        await eventually(lambda: recorder.of(pull, JobStatus.PROGRESS), 60, lambda: f'the pull going:\n{worker.log()}')
        await eventually(lambda: gate_running(engine, stack), 60, lambda: f'the gate up:\n{worker.log()}')
        assert recorder.of(deploy, JobStatus.RUNNING) and not recorder.of(deploy, JobStatus.SUCCEEDED)
        create = queue.queue('container.create', f'{PREFIX}-many', f'{PREFIX}-many', (spec(f'{PREFIX}-many'),), {})
        await eventually(lambda: copying(engine), 60, lambda: f'the create copying:\n{worker.log()}', interval=0.02)
        assert not recorder.of(create, JobStatus.SUCCEEDED) and not recorder.of(create, JobStatus.FAILED)

        # When the engine is killed
        kill_engine(engine)

        # Then each job ends failed, with a sentence, once
        jobs = {pull: reference, create: f'{PREFIX}-many', deploy: stack}

        def ended() -> bool:
            rows = panel_jobs(data)
            return all(rows.get(job, {}).get('status') == 'failed' for job in jobs)

        await eventually(ended, 60, lambda: f'the three failed: {panel_jobs(data)}\n{worker.log()}')
        rows = panel_jobs(data)
        assert [rows[job]['message'] for job in jobs] == [ENGINE_UNREACHABLE] * 3, [rows[job] for job in jobs]
        for job in jobs:
            assert len(recorder.of(job, JobStatus.RUNNING)) == 1
        assert not [row for row in rows.values() if row['status'] in ('queued', 'running')]
        async with async_playwright() as playwright:
            browser = await launch_chromium(playwright)
            page = await signed_in_page(browser, redis_panel.base_url, path='/jobs')
            for job, target in jobs.items():
                sentence = f'failed: {rows[job]["message"]}'
                await expect(page.get_by_role('row').filter(has_text=target).filter(has_text=sentence)).to_be_visible()

            # When the engine comes back
            engine.start()

            # Then the panel's state is the engine's again, by itself
            def resynced() -> bool:
                health = redis_panel.health() or {}
                listed = engine.cli('ps', '-aq').split()
                return bool(health.get('docker', {}).get('ok')) and health.get('containers') == len(listed)

            await eventually(resynced, 60, lambda: f'resynced: {redis_panel.health()}')
            await page.goto('/containers')
            await expect(page.get_by_role('row').filter(has_text=f'{stack}-gate-1')).to_be_visible(timeout=TIMEOUT_MS)

            # And the same three jobs succeed (the stack's lock went with the killed deploy)
            proxy.rate = 0
            again = {
                queue.queue('image.pull', reference, reference, (reference, ''), {}): reference,
                queue.queue(
                    'container.create', f'{PREFIX}-many-2', f'{PREFIX}-many-2', (spec(f'{PREFIX}-many-2'),), {}
                ): (f'{PREFIX}-many-2'),
                queue.queue(
                    'stack.deploy', stack, stack, (stack,), {'files': {'compose': PLAIN_STACK, 'env': ''}}
                ): stack,
            }

            def succeeded() -> bool:
                rows = panel_jobs(data)
                return all(rows.get(job, {}).get('status') == 'succeeded' for job in again)

            await eventually(succeeded, 90, lambda: f'the three again: {panel_jobs(data)}\n{worker.log()}')
            assert not [row for row in panel_jobs(data).values() if row['status'] in ('queued', 'running')]
            await page.goto('/jobs')
            for target in again.values():
                await expect(
                    page.get_by_role('row').filter(has_text=target).filter(has_text='succeeded')
                ).to_have_count(1, timeout=TIMEOUT_MS)
            await browser.close()
    recorder.stop()
    queue.close()


def spec(name: str) -> dict[str, object]:
    """A create-and-run of the many-files image with an anonymous volume over its files (the engine copies them)."""
    return {
        'image': MANY_FILES,
        'name': name,
        'command': ['sleep', '600'],
        'mounts': [{'target': '/data'}],
        'network': 'none',
    }


def gate_running(engine: OwnEngine, stack: str) -> bool:
    return engine.cli('ps', '-q', '--filter', f'name={stack}-gate-1', '--filter', 'status=running').strip() != ''


def copying(engine: OwnEngine) -> bool:
    """Has the engine begun to copy the image's files into a new volume (it does so inside the create request)?"""
    return any(any(volume.iterdir()) for volume in (engine.root / 'data' / 'volumes').glob('*/_data'))


def many_files_image() -> bytes:
    """An image (for ``docker import``) of busybox and ``FILES`` small files under /data."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w') as archive:
        for directory in ('bin', 'tmp', 'data', *(f'data/{index}' for index in range(FILES // 1000 + 1))):
            entry = tarfile.TarInfo(directory)
            entry.type, entry.mode = tarfile.DIRTYPE, 0o777 if directory == 'tmp' else 0o755
            archive.addfile(entry)
        archive.add('/bin/busybox', 'bin/busybox')
        for applet in ('sh', 'sleep', 'test'):
            link = tarfile.TarInfo(f'bin/{applet}')
            link.type, link.linkname = tarfile.SYMTYPE, 'busybox'
            archive.addfile(link)
        for index in range(FILES):
            content = f'{index}\n'.encode()
            entry = tarfile.TarInfo(f'data/{index // 1000}/{index}')
            entry.size = len(content)
            archive.addfile(entry, io.BytesIO(content))
    return buffer.getvalue()
