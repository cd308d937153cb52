"""A standalone worker learns the endpoints admins store in /admin/endpoints from the panel's database (unsealed with
the shared key): at start, on its periodic read, and at once when a job names one it does not know yet."""

from __future__ import annotations

import json
from pathlib import Path

import docker.errors
import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from core.docker.endpoint_spec import TlsMaterial
from core.docker.endpoint_store import StoredEndpoints
from core.docker.endpoint_sync import EndpointSync
from core.docker.endpoints import Endpoint, Endpoints, EndpointSource
from core.jobs.bus import InProcessBus
from core.jobs.cancel import make_cancel_flags
from core.jobs.seal import JobRefused
from core.permissions import LOCAL_ENDPOINT
from core.settings import Settings
from core.state.containers import COMPOSE_PROJECT_LABEL
from core.storage.credentials import SecretBox
from core.storage.sqlite import SQLiteDatabase
from tasks.broker import serve_also, serve_only
from tasks.context import WorkerContext

KEY = 'bho-shared-key'
OWN_ID = 'a' * 64
TLS = TlsMaterial(ca='ca-pem', cert='cert-pem', key='key-pem')


def stored(endpoint_id: str, url: str = 'tcp://127.0.0.1:2376') -> Endpoint:
    return Endpoint(id=endpoint_id, name=f'Host {endpoint_id}', url=url, tls=TLS, source=EndpointSource.STORED)


@pytest.fixture
def panel_store(tmp_path: Path) -> StoredEndpoints:
    """The panel's table, in the SQLite file of the data dir it shares with the worker."""
    settings = Settings(data_dir=tmp_path, secret_key=KEY)
    box = SecretBox.from_settings(settings)
    assert box is not None
    return StoredEndpoints(SQLiteDatabase(settings.database_path), box)


def worker_settings(tmp_path: Path, **fields: object) -> Settings:
    return Settings(data_dir=tmp_path, secret_key=KEY, redis_url='redis://unused', **fields)  # type: ignore[arg-type]


def test_the_worker_reads_stored_endpoints_at_start_and_after_a_change(
    tmp_path: Path, panel_store: StoredEndpoints
) -> None:
    panel_store.save(stored('b'), 'ada')
    sync = EndpointSync(worker_settings(tmp_path))
    served: list[str] = []
    sync.on_served(served.append)
    # At start: the settings' local and the stored b, unsealed with the shared key
    assert sync.reload() == ['b']
    assert sync.endpoints.ids == (LOCAL_ENDPOINT, 'b') and sync.endpoints.get('b').tls == TLS
    assert sync.queue_endpoints == [LOCAL_ENDPOINT, 'b']
    # Nothing changed: nothing unsealed again
    assert sync.reload() == []
    # An admin adds c, changes b and later removes c: the worker follows each
    panel_store.save(stored('c'), 'ada')
    panel_store.save(stored('b', 'tcp://127.0.0.1:2377'), 'ada')
    assert sorted(sync.reload()) == ['b', 'c']
    assert served == ['b', 'c']  # c is new: its queues are to be consumed; b was served already
    assert sync.endpoints.get('b').url == 'tcp://127.0.0.1:2377'
    panel_store.delete('c')
    sync.reload()
    assert 'c' not in sync.endpoints


def test_a_setting_wins_over_a_stored_endpoint_of_the_same_id(tmp_path: Path, panel_store: StoredEndpoints) -> None:
    panel_store.save(stored('b'), 'ada')
    setting = json.dumps([{'id': 'b', 'name': 'B', 'url': 'unix:///run/b.sock'}])
    sync = EndpointSync(worker_settings(tmp_path, endpoints=setting))
    sync.reload()
    assert sync.endpoints.get('b').url == 'unix:///run/b.sock'


def test_an_agent_without_the_database_serves_its_settings_alone(tmp_path: Path) -> None:
    sync = EndpointSync(worker_settings(tmp_path / 'agent'))
    assert sync.reload() == [] and not sync.reads_database
    assert sync.endpoints.ids == (LOCAL_ENDPOINT,)
    assert not (tmp_path / 'agent' / 'berth.sqlite3').exists()  # it made no database of its own


def test_a_worker_for_one_host_consumes_its_queue_before_the_host_is_stored(
    tmp_path: Path, panel_store: StoredEndpoints
) -> None:
    # Given a worker for b alone, started before an admin stored b
    settings = worker_settings(tmp_path, worker_endpoints='b')
    context = WorkerContext(
        endpoints=(sync := EndpointSync(settings)).endpoints,
        bus=InProcessBus(),
        cancel=make_cancel_flags(None),
        secrets=SecretBox.from_settings(settings, create=False),
        sync=sync,
    )
    broker = StubBroker()
    broker.declare_queue('berth')
    assert serve_only(broker, sync.queue_endpoints) == {'berth.b', 'berth-sandbox.b'}
    assert sync.endpoints.ids == ()
    assert context.secrets is not None
    signer = context.secrets.signer
    # When a job for b arrives before b is stored: refused with a sentence, after one more read
    with pytest.raises(JobRefused, match=r'does not know the Docker endpoint "b" .*not even after reading'):
        context.admit(signer.sign({'job_id': 'j1', 'endpoint': 'b'}, (), {}), (), {})
    # When b is stored, the next job for it reads the endpoints again and runs
    panel_store.save(stored('b'), 'ada')
    assert context.admit(signer.sign({'job_id': 'j2', 'endpoint': 'b'}, (), {}), (), {}).id == 'b'
    # A job for a host it does not serve is refused without a read
    with pytest.raises(JobRefused, match=r'does not serve the Docker endpoint "local" \(it serves b\)'):
        context.admit(signer.sign({'job_id': 'j3', 'endpoint': LOCAL_ENDPOINT}, (), {}), (), {})


def test_a_declared_queue_is_consumed_by_a_running_worker(tmp_path: Path) -> None:
    """What lets a running worker serve a host added later: Dramatiq consumes a queue declared after its start."""
    broker = StubBroker()
    serve_only(broker, [LOCAL_ENDPOINT])
    ran: list[str] = []

    @dramatiq.actor(broker=broker, queue_name='berth')
    def note(text: str) -> None:
        ran.append(text)

    worker = dramatiq.Worker(broker, worker_timeout=50)
    worker.start()
    try:
        serve_also(broker, 'c')
        assert 'berth.c' in worker.consumers
        broker.enqueue(note.message('on c').copy(queue_name='berth.c'))
        broker.join('berth.c')
        worker.join()
        assert ran == ['on c']
    finally:
        worker.stop()


class _Engine:
    """A client's ``api`` whose engine holds the given containers (id → labels), or cannot be reached."""

    def __init__(self, containers: dict[str, dict[str, str]] | None) -> None:
        self.containers = containers
        self.api = self

    def inspect_container(self, container_id: str) -> dict[str, object]:
        if self.containers is None:
            raise docker.errors.DockerException('engine unreachable')
        if container_id not in self.containers:
            raise docker.errors.NotFound('no such container')
        return {'Config': {'Labels': self.containers[container_id]}}


def test_the_worker_learns_berths_own_containers_on_each_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a worker in a container of compose project "berth", on the local engine
    monkeypatch.setattr('core.protection.own_container_id', lambda: OWN_ID)
    context = WorkerContext(endpoints=Endpoints([]), bus=InProcessBus(), cancel=make_cancel_flags(None))
    local = _Engine({OWN_ID: {COMPOSE_PROJECT_LABEL: 'berth'}})
    # When its first job is on b, where neither its container nor its project is
    on_b = context.own_protection('b', _Engine({}))  # type: ignore[arg-type]
    on_local = context.own_protection(LOCAL_ENDPOINT, local)  # type: ignore[arg-type]
    # Then b's containers of a project named "berth" are not Berth's, local's are
    assert not on_b.container_is_protected('x' * 64, {COMPOSE_PROJECT_LABEL: 'berth'})
    assert on_local.container_is_protected('y' * 64, {COMPOSE_PROJECT_LABEL: 'berth'})
    assert on_local.container_is_protected(OWN_ID, {})
    # An engine that cannot tell now: the own id still counts, and it is asked again next time
    assert context.own_protection('c', _Engine(None)).own_container_ids == {OWN_ID}  # type: ignore[arg-type]
    assert context.own_protection('c', local).own_projects == {'berth'}  # type: ignore[arg-type]
