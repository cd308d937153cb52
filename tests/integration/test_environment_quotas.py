"""Quotas and idle stop against the real engine: two creates (or starts) at once at the limit end with exactly one
refused, in the embedded worker's threads and with two real Redis workers; a start beyond the running limit is refused
with a sentence; an environment nobody uses is stopped by a job of the system's that its owner sees."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from core.environments.environment import IDLE_STOP_KIND
from core.environments.quotas import Applies, Limits, QuotaRule
from core.environments.templates import EnvironmentNames, Template
from core.jobs.locks import make_locks
from core.jobs.store import Job
from core.permissions import Forbidden
from core.settings import Settings
from system import Services, build
from tests.support.eventually import eventually
from tests.support.worker import dramatiq_worker

from .test_environments import ADA, DANA, EVE, TEMPLATE, created, done, environment_name, sh, template
from .test_images import finished

__all__ = ['environment_name', 'template']  # the fixtures, shared with the environment tests


def limit(services: Services, **limits: int) -> None:
    rule = QuotaRule(applies=Applies.ROLE, name='developer', limits=Limits(**limits))  # type: ignore[arg-type]
    services.quotas.save(rule, by='test')


def container_of(name: str) -> str:
    return EnvironmentNames.of(owner_id=DANA.owner_id, username='dana', name=name).container


def running(container: str) -> bool:
    return sh('docker', 'inspect', '-f', '{{.State.Running}}', container, check=False).stdout.strip() == 'true'


async def two_at_once(services: Services, names: list[str]) -> list[Job]:
    """Dispatches dana's two creates together; returns both jobs once finished."""
    jobs = await asyncio.gather(*(services.commands.create_environment(DANA, 'bt-busybox', name) for name in names))
    return [await finished(services, job, timeout=60) for job in jobs]


def exactly_one_refused(jobs: list[Job], sentence: str) -> Job:
    """The one refused job (with ``sentence``), the other having succeeded."""
    assert sorted(job.status for job in jobs) == ['failed', 'succeeded'], [job.message for job in jobs]
    refused = next(job for job in jobs if job.status == 'failed')
    assert refused.message.startswith(f'refused: {sentence}'), refused.message
    return refused


async def test_two_creates_at_once_at_the_limit_end_with_exactly_one_refused(
    services: Services, template: Template, environment_name: Callable[[], str]
) -> None:
    # Given dana at 1 of her 2 environments
    limit(services, environments=2)
    first = environment_name()
    await created(services, DANA, first)
    names = [environment_name(), environment_name()]
    # When she asks for two more at once (the panel's check passes both: the state shows one)
    jobs = await two_at_once(services, names)
    # Then the worker's threads let exactly one through; the other is removed again, with a sentence
    refused = exactly_one_refused(jobs, 'dana may have 2 environments and already has 2 (')
    made = [name for name in names if running(container_of(name))]
    assert len(made) == 1 and first in refused.message and made[0] in refused.message
    assert not sh('docker', 'ps', '-aq', '--filter', f'name={refused.target_name}').stdout.strip()


async def test_a_start_beyond_the_running_limit_is_refused_by_the_panel_and_the_worker(
    services: Services, template: Template, environment_name: Callable[[], str]
) -> None:
    # Given two environments of dana's, stopped, and a limit of one running
    names = [environment_name(), environment_name()]
    containers = [await created(services, DANA, name) for name in names]
    rows = [services.state.find(container) for container in containers]
    for row in rows:
        assert row is not None
        await done(services, await services.commands.container_action(DANA, 'stop', row.id))
    await eventually(lambda: all(services.state.find(name).state == 'exited' for name in containers))  # type: ignore[union-attr]
    limit(services, running=1)
    # When both are started at once, the worker lets exactly one through
    jobs = await asyncio.gather(*(services.commands.container_action(DANA, 'start', row.id) for row in rows if row))
    ended = [await finished(services, job, timeout=60) for job in jobs]
    exactly_one_refused(ended, 'dana may run 1 environment at once and already runs 1 (')
    assert sorted(running(container) for container in containers) == [False, True]
    # And a start of the other one now is refused by the panel already, naming the limit and the use, audited
    stopped = next(row for row in rows if row and not running(row.name))
    started = next(name for name in names if running(container_of(name)))
    with pytest.raises(Forbidden) as refusal:
        await services.commands.container_action(DANA, 'start', stopped.id)
    assert str(refusal.value) == f'dana may run 1 environment at once and already runs 1 ({started})'
    entry = services.audit.entries(username='dana', action='container.start')[0]
    assert entry.result == f'refused: {refusal.value}'


@pytest.fixture
async def idle_services(tmp_path: Path) -> AsyncIterator[Services]:
    """The embedded panel with idle-stop minutes of one second."""
    running = build(Settings(data_dir=tmp_path / 'data', redis_url=None, idle_minute_seconds=1.0))
    await running.start()
    await eventually(lambda: running.state.engine_ok and running.state.synced_at > 0, what='first resync')
    yield running
    await running.stop()


async def test_an_environment_nobody_uses_is_stopped_by_a_job_its_owner_sees(
    idle_services: Services, environment_name: Callable[[], str]
) -> None:
    services = idle_services
    services.templates.save(Template.from_mapping({**TEMPLATE, 'idle_minutes': 3}), by='test')
    container = await created(services, DANA, environment_name())
    # While an exec runs in it (docker exec from outside the panel), longer than its idle timeout, it keeps running
    result: list[int] = []
    exec_thread = threading.Thread(
        target=lambda: result.append(sh('docker', 'exec', container, 'sleep', '5', check=False).returncode)
    )
    exec_thread.start()
    await asyncio.to_thread(exec_thread.join)
    assert result == [0] and running(container)
    # Then, 3 idle "minutes" after, the system stops it with a job of dana's
    await eventually(lambda: not running(container), timeout=30, what='stopped for idleness')
    jobs = services.jobs.jobs.values()
    await eventually(lambda: any(job.kind == IDLE_STOP_KIND for job in jobs), what='the idle stop job')
    job = await finished(services, next(job for job in jobs if job.kind == IDLE_STOP_KIND))
    assert job.status == 'succeeded' and job.message == f'Stopped {container} after 3 idle minutes'
    assert job.owner == DANA.owner_id and job.requested_by == '(system)'
    assert [entry.result for entry in services.audit.entries(action=IDLE_STOP_KIND)][-1].startswith('queued job')


@pytest.fixture
def two_workers(redis_url: str, tmp_path: Path) -> Iterator[None]:
    """Two `dramatiq tasks` processes sharing the panel's data dir (its key) and Redis, each running one job at a time
    and taking one message at a time (no prefetching of a second), so two jobs at once run in the two processes."""
    environment = {'REDIS_URL': redis_url, 'BERTH_DATA_DIR': str(tmp_path / 'data'), 'dramatiq_queue_prefetch': '1'}
    with dramatiq_worker(threads=1, **environment), dramatiq_worker(threads=1, **environment):
        yield


@pytest.fixture
async def redis_services(tmp_path: Path, redis_url: str) -> AsyncIterator[Services]:
    running = build(Settings(data_dir=tmp_path / 'data', redis_url=redis_url))
    await running.start()
    await eventually(lambda: running.state.engine_ok and running.state.synced_at > 0, what='first resync')
    yield running
    await running.stop()


async def test_two_creates_at_once_with_two_redis_workers_end_with_exactly_one_refused(
    redis_services: Services, two_workers: None, environment_name: Callable[[], str]
) -> None:
    services = redis_services
    services.templates.save(Template.from_mapping(TEMPLATE), by='test')
    limit(services, running=1)
    # Given two workers, each running one job at a time: pairs of creates at once, until two pairs ran at the same
    # time in both (the workers poll the queue about every second, so a pair may also run one after the other)
    overlapped = 0
    for _ in range(16):
        names = [environment_name(), environment_name()]
        jobs = await two_at_once(services, names)
        # Then every pair lets exactly one through
        exactly_one_refused(jobs, 'dana may run 1 environment at once and already runs 1 (')
        made = [name for name in names if running(container_of(name))]
        assert len(made) == 1
        first, second = sorted(jobs, key=lambda job: job.started_at or 0)
        overlapped += bool(second.started_at and first.finished_at and second.started_at < first.finished_at)
        gone = container_of(made[0])
        sh('docker', 'rm', '-f', gone)
        await eventually(lambda gone=gone: services.state.find(gone) is None)
        if overlapped >= 2:
            break
    assert overlapped >= 2, 'the two workers never ran a pair at the same time'


def test_the_workers_lock_excludes_across_redis_clients(redis_url: str) -> None:
    # Given two workers' locks (each its own Redis client, as in two processes) and four threads in each
    workers = [make_locks(redis_url), make_locks(redis_url)]
    inside, most, lock = 0, 0, threading.Lock()

    def work(index: int) -> None:
        nonlocal inside, most
        for _ in range(5):
            with workers[index % 2].hold('quota:local:dana', "dana's quota"):
                with lock:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.01)
                with lock:
                    inside -= 1

    threads = [threading.Thread(target=work, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then never two held it at once
    assert most == 1 and workers[0].kind == 'redis'


async def test_a_hand_over_counts_against_the_new_owners_quota_in_the_panel_and_the_worker(
    services: Services, template: Template, environment_name: Callable[[], str]
) -> None:
    # Given eve (a known SSO account) with one environment, at her limit, and two environments of dana's
    assert not services.accounts.upsert_external('eve', 'developer', source='oidc', subject=EVE.subject)
    limit(services, environments=1)
    await created(services, EVE, environment_name())
    limit(services, environments=3)
    danas = [await created(services, DANA, environment_name()) for _ in range(2)]
    limit(services, environments=1)
    # When an admin hands one of dana's to eve, the panel refuses it, naming the limit, and audits the refusal
    with pytest.raises(Forbidden, match=r'eve cannot take it: eve may have 1 environment and already has 1 \('):
        await services.commands.assign_environment(ADA, danas[0], owner=EVE.owner_id, username='eve')
    entry = services.audit.entries(username='ada', action='environment.assign')[0]
    assert entry.result.startswith('refused: eve cannot take it')
    # When eve may have two and both of dana's are handed to her at once (the panel's check passes both)
    limit(services, environments=2)
    jobs = await asyncio.gather(
        *(services.commands.assign_environment(ADA, name, owner=EVE.owner_id, username='eve') for name in danas)
    )
    ended = [await finished(services, job, timeout=60) for job in jobs]
    # Then the worker, counting under eve's lock, lets exactly one through; the other stays dana's, running
    exactly_one_refused(ended, 'eve cannot take it: eve may have 2 environments and already has 2 (')
    kept = next(job for job in ended if job.status == 'failed').target_name
    assert running(kept)
