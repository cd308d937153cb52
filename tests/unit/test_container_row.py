from datetime import UTC, datetime

import docker.errors
import requests.exceptions
import urllib3.exceptions

from core.docker.client import describe_error
from core.state.containers import ContainerRow, format_ports

INSPECT = {
    'Id': 'a' * 64,
    'Name': '/web',
    'Created': '2026-11-21T10:00:00.123456789Z',
    'State': {
        'Status': 'running',
        'StartedAt': '2026-11-21T10:00:01.5Z',
        'FinishedAt': '0001-01-01T00:00:00Z',
        'ExitCode': 0,
        'Health': {'Status': 'healthy'},
    },
    'Config': {'Image': 'nginx:1.27', 'Labels': {'com.docker.compose.project': 'shop', '<b>x</b>': '<script>'}},
    'NetworkSettings': {'Ports': {'80/tcp': [{'HostIp': '0.0.0.0', 'HostPort': '8080'}], '443/tcp': None}},
}


def test_row_from_inspect() -> None:
    row = ContainerRow.from_inspect(INSPECT)
    assert row.name == 'web'
    assert row.image == 'nginx:1.27'
    assert row.project == 'shop'
    assert row.health == 'healthy'
    assert row.ports == ['0.0.0.0:8080->80/tcp', '443/tcp']
    assert row.labels['<b>x</b>'] == '<script>'  # kept as text; the table renders it through interpolation


def test_status_text_like_the_cli() -> None:
    row = ContainerRow.from_inspect(INSPECT)
    now = datetime(2026, 11, 21, 10, 5, 2, tzinfo=UTC)
    assert row.status_text(now) == 'Up 5 minutes (healthy)'
    row.state, row.exit_code, row.finished_at = 'exited', 137, '2026-11-21T08:00:00Z'
    assert row.status_text(now) == 'Exited (137) 2 hours ago'


def test_ports_without_bindings() -> None:
    assert format_ports({}) == []
    assert format_ports({'53/udp': []}) == ['53/udp']


def test_describe_error_never_a_traceback() -> None:

    assert describe_error(requests.exceptions.ConnectionError('boom')) == 'Docker engine unreachable'
    # a pull's stream cut by the engine dying (tests/faults/test_engine_killed_jobs.py)
    broken = urllib3.exceptions.ProtocolError('Connection broken: IncompleteRead(0 bytes read)')
    assert describe_error(broken) == 'Docker engine unreachable'
    assert describe_error(requests.exceptions.ChunkedEncodingError(broken)) == 'Docker engine unreachable'
    # a connection made as the engine dies: docker-py wraps the refusal while asking the API version
    try:
        try:
            raise requests.exceptions.ConnectionError(('Connection aborted.', ConnectionResetError()))
        except requests.exceptions.ConnectionError as refused:
            raise docker.errors.DockerException(f'Error while fetching server API version: {refused}') from refused
    except docker.errors.DockerException as wrapped:
        assert describe_error(wrapped) == 'Docker engine unreachable'
    assert (
        describe_error(docker.errors.NotFound('x', explanation='No such container: gone'))
        == 'not found: No such container: gone'
    )
