"""Per-host roles through the pages, with a second real engine (B, mutual TLS on loopback): an operator whose role on
B is viewer sees B's containers and is refused there by the page, the event handler and the terminal stream, each
refusal audited; on the local host the same person acts."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User

from components.container_table import ContainerTable
from tests.support import BUSYBOX
from tests.support.engine import OwnEngine, endpoints_setting, started_tls_engine
from tests.support.tls import TlsFiles

from .test_admin import create_account
from .test_pages import rows_of, sign_in


@pytest.fixture(scope='module')
def engine_b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OwnEngine, str, TlsFiles]]:
    with started_tls_engine(tmp_path_factory.mktemp('bho-ui'), 'bthost0', address='172.31.250.1/24') as engine:
        yield engine


@pytest.fixture
def container_on_b(engine_b: tuple[OwnEngine, str, TlsFiles]) -> Iterator[str]:
    engine = engine_b[0]
    name = f'bho-ui-{uuid.uuid4().hex[:8]}'
    engine.cli('run', '-d', '--name', name, BUSYBOX, 'sleep', '600')
    yield name
    subprocess.run(['docker', '-H', engine.url, 'rm', '-f', name], capture_output=True)


@pytest.fixture
def host_b(data_dir: Path, monkeypatch: pytest.MonkeyPatch, engine_b: tuple[OwnEngine, str, TlsFiles]) -> None:
    """Requested before the ``user`` fixture, so main.py reads it: B as an endpoint, pat a viewer there."""
    _, url, tls = engine_b
    monkeypatch.setenv('BERTH_ENDPOINTS', endpoints_setting('b', 'Host B', url, tls))
    monkeypatch.setenv('BERTH_OIDC_ENDPOINT_ROLES', json.dumps({'b': {'viewer': ['user:pat']}}))


async def test_operator_on_a_viewer_on_b_is_refused_on_b_by_page_handler_and_stream(
    host_b: None,
    container_on_b: str,
    engine_b: tuple[OwnEngine, str, TlsFiles],
    create_user: Callable[[], User],
) -> None:
    admin, pat = create_user(), create_user()
    await sign_in(admin)
    password = await create_account(admin, 'pat', 'operator')
    await sign_in(pat, 'pat', password)
    # B's containers are listed for pat, each with its host
    await pat.open('/containers')
    rows = await rows_of(pat, lambda rows: any(row['name'] == container_on_b for row in rows), timeout=30)
    row = next(row for row in rows if row['name'] == container_on_b)
    assert (row['endpoint'], row['host']) == ('b', 'Host B')
    # the event handler: stopping it from the table is refused with a sentence naming the host
    pat.find(ContainerTable).trigger('row_action', {'action': 'stop', 'id': row['id']})
    await pat.should_see('Pat is a viewer on host "b": stop containers needs the operator role.', retries=50)
    # the page: a terminal into it is refused
    await pat.open(f'/hosts/b/containers/{container_on_b}/terminal')
    await pat.should_see('pat is a viewer on host "b"', retries=50)
    # the stream: the container page's Terminal tab opens none either
    await pat.open(f'/hosts/b/containers/{container_on_b}')
    await pat.should_see(container_on_b)
    pat.find(kind=ui.tab, content='Terminal').click()
    await pat.should_see('Pat is a viewer on host "b": open a terminal needs the operator role.')
    engine = engine_b[0]
    assert json.loads(engine.cli('inspect', container_on_b))[0]['State']['Status'] == 'running'
    # Then each refusal is audited with its host
    await admin.open('/admin/audit')
    rows = next(iter(admin.find(ui.table).elements)).rows  # type: ignore[attr-defined]
    refused = {
        (row['action'], row['endpoint']) for row in rows if row['username'] == 'pat' and 'refused' in row['result']
    }
    assert {('container.stop', 'b'), ('container.exec', 'b')} <= refused
