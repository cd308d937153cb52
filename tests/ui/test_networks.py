"""/networks through NiceGUI's simulated user against the real engine: live from network events, who is connected."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator

import pytest
from nicegui.testing import User

from tests.support.eventually import eventually

from .test_pages import sign_in
from .test_volumes import row_of


@pytest.fixture
def network_name() -> Iterator[str]:
    name = f'berth-test-net-{uuid.uuid4().hex[:8]}'
    yield name
    subprocess.run(['docker', 'network', 'rm', name], capture_output=True)


def members(user: User, name: str) -> list[str]:
    return [member['name'] for member in (row_of(user, name) or {}).get('members', [])]


async def test_networks_appear_show_who_is_connected_and_go_without_a_reload(
    user: User, network_name: str, make_container: Callable[..., str]
) -> None:
    # (network_name comes first, so it is removed after the containers connected to it)
    await sign_in(user)
    await user.open('/networks')
    await user.should_see('Networks')
    bridge = row_of(user, 'bridge')
    assert bridge is not None and bridge['built_in'] and bridge['driver'] == 'bridge'
    # When a network is created with the CLI, with its own subnet
    subprocess.run(
        ['docker', 'network', 'create', '--internal', '--subnet', '172.31.250.0/24', network_name],
        check=True,
        capture_output=True,
    )
    # Then the open page lists it with its subnet and flags
    await eventually(lambda: row_of(user, network_name) is not None, what='the new network listed')
    row = row_of(user, network_name)
    assert row is not None and row['subnet'] == '172.31.250.0/24' and row['internal'] and not row['built_in']
    # When a running container is connected and disconnected with the CLI (network events, no container event)
    container = make_container()
    subprocess.run(['docker', 'network', 'connect', network_name, container], check=True, capture_output=True)
    await eventually(lambda: members(user, network_name) == [container], what='the container connected')
    subprocess.run(['docker', 'network', 'disconnect', network_name, container], check=True, capture_output=True)
    await eventually(lambda: members(user, network_name) == [], what='the container disconnected')
    # When the network is removed, the row goes
    subprocess.run(['docker', 'network', 'rm', network_name], check=True, capture_output=True)
    await eventually(lambda: row_of(user, network_name) is None, what='the removed network gone')
