"""/networks through NiceGUI's simulated user against the real engine: live from network events, who is connected."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable, Iterator

import pytest
from nicegui import ui
from nicegui.testing import User

from tests.support.eventually import eventually

from .test_admin import create_account
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
        ['docker', 'network', 'create', '--internal', '--subnet', '10.214.250.0/24', network_name],
        check=True,
        capture_output=True,
    )
    # Then the open page lists it with its subnet and flags
    await eventually(lambda: row_of(user, network_name) is not None, what='the new network listed')
    row = row_of(user, network_name)
    assert row is not None and row['subnet'] == '10.214.250.0/24' and row['internal'] and not row['built_in']
    # When a running container is connected and disconnected with the CLI (network events, no container event)
    container = make_container()
    subprocess.run(['docker', 'network', 'connect', network_name, container], check=True, capture_output=True)
    await eventually(lambda: members(user, network_name) == [container], what='the container connected')
    subprocess.run(['docker', 'network', 'disconnect', network_name, container], check=True, capture_output=True)
    await eventually(lambda: members(user, network_name) == [], what='the container disconnected')
    # When the network is removed, the row goes
    subprocess.run(['docker', 'network', 'rm', network_name], check=True, capture_output=True)
    await eventually(lambda: row_of(user, network_name) is None, what='the removed network gone')


@pytest.fixture
def bt_networks() -> Iterator[list[str]]:
    """Names of networks a test makes (bt-net-…), removed afterwards (after the containers on them)."""
    names: list[str] = []
    yield names
    for name in names:
        subprocess.run(['docker', 'network', 'rm', name], capture_output=True)


def bt_container() -> str:
    return f'bt-net-c-{uuid.uuid4().hex[:8]}'


def bt_network(names: list[str], *options: str) -> str:
    names.append(f'bt-net-{uuid.uuid4().hex[:8]}')
    subprocess.run(['docker', 'network', 'create', *options, names[-1]], check=True, capture_output=True)
    return names[-1]


def docker_inspect(name: str) -> dict:
    result = subprocess.run(['docker', 'network', 'inspect', name], capture_output=True, text=True)
    return json.loads(result.stdout)[0] if result.returncode == 0 else {}


def field(user: User, label: str) -> ui.input:
    return next(iter(user.find(kind=ui.input, content=label).elements))  # type: ignore[return-value]


async def test_new_network_dialog_says_what_is_wrong_then_creates_it(user: User, bt_networks: list[str]) -> None:
    await sign_in(user)
    await user.open('/networks')
    name = f'bt-net-{uuid.uuid4().hex[:8]}'
    bt_networks.append(name)
    user.find(kind=ui.button, content='New network').click()
    await user.should_see('New bridge network')
    # When the subnet is malformed and the gateway outside it, each field says what is wrong, and nothing is created
    field(user, 'Name').value = name
    field(user, 'Subnet').value = '10.213.10.0/33'
    await user.should_see('10.213.10.0/33 is not a valid subnet: the prefix length must be 0–32')
    field(user, 'Subnet').value = '10.213.10.0/24'
    field(user, 'Gateway').value = '10.213.11.1'
    await user.should_see('The gateway 10.213.11.1 is outside the subnet 10.213.10.0/24')
    user.find(marker='create-network').click()
    await user.should_see('The gateway 10.213.11.1 is outside the subnet 10.213.10.0/24')
    assert docker_inspect(name) == {}
    # When it is corrected, the network is created with exactly that, and the open page lists it
    field(user, 'Gateway').value = '10.213.10.1'
    user.find(kind=ui.checkbox, content='Internal').click()
    user.find(marker='create-network').click()
    await eventually(lambda: docker_inspect(name) != {}, what='the network created')
    data = docker_inspect(name)
    assert (data['Driver'], data['Internal']) == ('bridge', True)
    assert data['IPAM']['Config'] == [{'Subnet': '10.213.10.0/24', 'Gateway': '10.213.10.1'}]
    await eventually(lambda: row_of(user, name) is not None, what='the new network listed')


async def test_remove_asks_and_names_the_containers_still_connected(
    user: User, bt_networks: list[str], make_container: Callable[..., str]
) -> None:
    await sign_in(user)
    await user.open('/networks')
    used, unused = bt_network(bt_networks), bt_network(bt_networks)
    container = make_container(name=bt_container(), extra=['--network', used])
    await eventually(lambda: members(user, used) == [container], what='the container on its network')
    table = user.find(kind=ui.table)
    # When Remove is pressed on a network a container is connected to, the dialog and then the panel name it
    table.trigger('row_action', {'action': 'remove', 'id': row_of(user, used)['id']})  # type: ignore[index]
    await user.should_see(f'Still connected: {container}. Disconnect them first')
    user.find(marker='confirm-remove').click()
    await user.should_see(f'The network {used} still has containers connected ({container}): disconnect them first')
    assert docker_inspect(used) != {}
    # When Remove is confirmed on the unused one, it goes
    table.trigger('row_action', {'action': 'remove', 'id': row_of(user, unused)['id']})  # type: ignore[index]
    await user.should_see(f'Remove the network {unused}?')
    user.find(marker='confirm-remove').click()
    await eventually(lambda: row_of(user, unused) is None, what='the removed network gone')
    assert docker_inspect(unused) == {}


async def test_prune_previews_exactly_the_unused_networks(
    user: User, bt_networks: list[str], make_container: Callable[..., str]
) -> None:
    await sign_in(user)
    used, unused = bt_network(bt_networks), bt_network(bt_networks)
    make_container(name=bt_container(), extra=['--network', used])
    await user.open('/networks')
    await eventually(lambda: row_of(user, unused) is not None and members(user, used) != [], what='both listed')
    user.find(kind=ui.button, content='Prune').click()
    await user.should_see('unused network')
    dialog = next(iter(user.find(kind=ui.dialog).elements))
    listed = [label.text for label in dialog.descendants() if isinstance(label, ui.label)]
    # the preview holds the unused network, never one a container is on nor the engine's own
    assert unused in listed and used not in listed and not {'bridge', 'host', 'none'} & set(listed)
    # (other tests' networks may be listed too: this one is not confirmed)
    user.find(kind=ui.button, content='Cancel').click()


async def test_detail_page_connects_and_disconnects_and_says_when_the_network_is_gone(
    user: User, bt_networks: list[str], make_container: Callable[..., str]
) -> None:
    name = bt_network(bt_networks, '--subnet', '10.213.12.0/24', '--label', 'team=<b>ops</b>')
    container = make_container(name=bt_container())
    await sign_in(user)
    await user.open(f'/networks/{name}')
    await user.should_see('10.213.12.0/24')
    await user.should_see('team')
    await user.should_see('<b>ops</b>')  # a label is text, never HTML
    await user.should_see('No container is connected.')
    # When a malformed address is given, the form says why
    select = next(iter(user.find(kind=ui.select).elements))
    select.value = next(key for key, label in select.options.items() if label == container)  # type: ignore[attr-defined]
    field(user, 'Aliases').value = 'db, cache'
    field(user, 'IPv4 address').value = '10.213.13.5'
    await user.should_see("10.213.13.5 is outside the network's subnet 10.213.12.0/24")
    # When it is corrected and Connect pressed, the engine has it, and the page shows it without a reload
    field(user, 'IPv4 address').value = '10.213.12.5'
    user.find(kind=ui.button, content='Connect').click()
    await eventually(lambda: docker_inspect(name).get('Containers'), what='the container connected')
    assert [entry['IPv4Address'] for entry in docker_inspect(name)['Containers'].values()] == ['10.213.12.5/24']
    await user.should_see('Connected containers (1)', retries=50)
    await user.should_see('10.213.12.5')
    await user.should_see('db, cache')
    # When Disconnect is confirmed, it is off the network
    user.find(marker=f'disconnect-{container}').click()
    await user.should_see(f'Disconnect {container} from {name}?')
    user.find(marker='confirm-disconnect').click()
    await eventually(lambda: docker_inspect(name).get('Containers') == {}, what='the container disconnected')
    await user.should_see('No container is connected.', retries=50)
    # When the network is removed elsewhere, the page says so
    subprocess.run(['docker', 'network', 'rm', name], check=True, capture_output=True)
    await user.should_see(f'The network {name} no longer exists: it was removed.', retries=50)


async def test_a_viewer_reads_networks_but_is_offered_no_change(
    create_user: Callable[[], User], bt_networks: list[str], make_container: Callable[..., str]
) -> None:
    name = bt_network(bt_networks, '--subnet', '10.213.14.0/24')
    make_container(name=bt_container(), extra=['--network', name])
    admin, viewer = create_user(), create_user()
    await sign_in(admin)
    password = await create_account(admin, 'vera', 'viewer')
    await sign_in(viewer, 'vera', password)
    await viewer.open('/networks')
    await eventually(lambda: row_of(viewer, name) is not None, what='the network listed')
    await viewer.should_not_see('New network')
    await viewer.should_not_see('Prune')
    actions = next(iter(viewer.find(kind=ui.table).elements)).slots['body-cell-actions'].template
    assert 'aria-label="Inspect"' in str(actions) and 'aria-label="Remove"' not in str(actions)
    await viewer.open(f'/networks/{name}')
    await viewer.should_see('Connected containers (1)', retries=50)
    await viewer.should_not_see('Connect container')
    await viewer.should_not_see('Disconnect')


async def test_the_dashboards_prune_link_opens_the_prune_preview(user: User) -> None:
    name = f'bt-net-prune-link-{uuid.uuid4().hex[:6]}'
    subprocess.run(['docker', 'network', 'create', name], check=True, capture_output=True)
    try:
        await sign_in(user)
        await user.open('/networks?prune=1')
        await user.should_see(
            "No container, running or stopped, is connected to these; the engine's own stay.", retries=50
        )
        await user.should_see(name)
        user.find(kind=ui.button, content='Cancel').click()
    finally:
        subprocess.run(['docker', 'network', 'rm', name], check=False, capture_output=True)
