"""The worker side of flow 2 in-process: actors declared on a fresh broker per test, their context a middleware of
that broker; the endpoint a job names is signed with it, and a worker refuses one it does not serve."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
from cryptography.fernet import Fernet
from dramatiq.brokers.stub import StubBroker

from core.commands.dispatch import Commands
from core.docker.endpoints import Endpoint, Endpoints
from core.errors import CommandError
from core.jobs.bus import Bus
from core.jobs.cancel import make_cancel_flags
from core.jobs.store import JobStore, JobUpdate
from core.permissions import LOCAL_ENDPOINT, Identity, Permission, Scope
from core.state.model import DockerState
from core.storage.audit import AuditLog
from core.storage.credentials import SecretBox
from core.storage.sqlite import SQLiteDatabase
from tasks.actors import Actors, declare
from tasks.broker import QUEUE
from tasks.context import WorkerContext

OPERATOR = Identity(username='olga', role='operator', address='127.0.0.1')
NO_ENGINE = 'unix:///nonexistent/berth-test-docker.sock'  # an admitted job fails: no engine there


class RecordingBus(Bus):
    kind = 'test'

    def __init__(self) -> None:
        self.updates: list[JobUpdate] = []
        self._lock = threading.Lock()

    def publish(self, update: JobUpdate) -> None:
        with self._lock:
            self.updates.append(update)

    def finished(self, job_id: str) -> JobUpdate:
        with self._lock:
            ends = [update for update in self.updates if update.job_id == job_id and update.status != 'heartbeat']
        assert ends, f'nothing published for {job_id}'
        return ends[-1]


@pytest.fixture
def secrets() -> SecretBox:
    return SecretBox(Fernet.generate_key())


@pytest.fixture
def bus() -> RecordingBus:
    return RecordingBus()


@pytest.fixture
def actors(stub_broker: StubBroker, bus: RecordingBus, secrets: SecretBox) -> Actors:
    endpoints = Endpoints([Endpoint(id=LOCAL_ENDPOINT, name='local', url=NO_ENGINE)])
    stub_broker.add_middleware(
        WorkerContext(endpoints=endpoints, bus=bus, cancel=make_cancel_flags(None), secrets=secrets)
    )
    return declare(stub_broker)


@pytest.fixture
def commands(actors: Actors, secrets: SecretBox) -> Iterator[Commands]:
    database = SQLiteDatabase(':memory:')
    yield Commands(
        state=DockerState(),
        jobs=JobStore(database),
        audit=AuditLog(database),
        senders=actors.senders(),
        endpoints=Endpoints([Endpoint(id=LOCAL_ENDPOINT, name='local'), Endpoint(id='build', name='Build host')]),
        signer=secrets.signer,
    )


def run_all(broker: StubBroker, worker: dramatiq.Worker) -> None:
    broker.join(QUEUE, fail_fast=True)
    worker.join()


async def kill(commands: Commands, endpoint: str = LOCAL_ENDPOINT) -> str:
    job = await commands.dispatch(
        OPERATOR,
        permission=Permission.CONTAINER_LIFECYCLE,
        what='kill containers',
        kind='container.kill',
        target='c1',
        target_name='web',
        params={},
        arguments=('kill', 'c1'),
        scope=Scope(endpoint=endpoint),
    )
    return job.job_id


async def test_a_job_names_its_endpoint_and_the_worker_runs_it_there(
    commands: Commands, stub_broker: StubBroker, stub_worker: dramatiq.Worker, bus: RecordingBus
) -> None:
    sent: list[tuple[Any, ...]] = []
    send = commands.senders['container.kill']
    commands.senders['container.kill'] = lambda *message: (sent.append(message), send(*message))[1]
    job_id = await kill(commands)
    await asyncio.to_thread(run_all, stub_broker, stub_worker)
    assert sent[0][0]['endpoint'] == LOCAL_ENDPOINT
    # admitted (running), then run against the endpoint it names, whose engine is not there
    assert [update.status for update in bus.updates if update.job_id == job_id] == ['running', 'failed']
    assert bus.finished(job_id).message == 'Docker engine unreachable'  # its socket is not there


async def test_the_endpoint_is_covered_by_the_signature(
    commands: Commands, stub_broker: StubBroker, stub_worker: dramatiq.Worker, bus: RecordingBus
) -> None:
    send = commands.senders['container.kill']
    commands.senders['container.kill'] = lambda job, *rest: send({**job, 'endpoint': 'elsewhere'}, *rest)
    job_id = await kill(commands)
    await asyncio.to_thread(run_all, stub_broker, stub_worker)
    finished = bus.finished(job_id)
    assert finished.status == 'failed'
    assert finished.message.startswith("refused: the job's signature does not match")


async def test_a_worker_refuses_an_endpoint_it_does_not_serve(
    commands: Commands, stub_broker: StubBroker, stub_worker: dramatiq.Worker, bus: RecordingBus
) -> None:
    job_id = await kill(commands, endpoint='build')  # the panel knows it; this worker does not
    await asyncio.to_thread(run_all, stub_broker, stub_worker)
    finished = bus.finished(job_id)
    assert (finished.status, finished.message) == (
        'failed',
        'refused: this worker does not serve the Docker endpoint "build" (it serves local)',
    )
    assert [update.status for update in bus.updates if update.job_id == job_id] == ['failed']  # it never ran


async def test_the_panel_refuses_an_endpoint_it_does_not_know(commands: Commands) -> None:
    with pytest.raises(CommandError, match='unknown Docker endpoint "prod"'):
        await kill(commands, endpoint='prod')
    assert not commands.jobs.jobs
