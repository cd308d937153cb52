"""Networks against the real engine: create, connect, disconnect, remove and prune go through the one dispatch path,
the daemon does exactly what the user confirmed, and the worker refuses the engine's own networks and any driver
but bridge whatever the message says."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.commands.network_spec import NetworkSpec
from core.errors import CommandError
from core.jobs.store import Job
from core.permissions import Forbidden, Permission
from system import Services
from tests.support.eventually import eventually

from .conftest import OPERATOR, VIEWER
from .test_images import finished

MakeNetwork = Callable[..., str]


def inspect(name: str) -> dict[str, Any]:
    result = subprocess.run(['docker', 'network', 'inspect', name], check=True, capture_output=True, text=True)
    return json.loads(result.stdout)[0]  # type: ignore[no-any-return]


def exists(name: str) -> bool:
    return subprocess.run(['docker', 'network', 'inspect', name], capture_output=True).returncode == 0


@pytest.fixture
def network_names() -> Iterator[Callable[[], str]]:
    """Unique names (bt-net-…); every network by those names is removed afterwards, after its containers."""
    names: list[str] = []

    def make() -> str:
        names.append(f'bt-net-{uuid.uuid4().hex[:8]}')
        return names[-1]

    yield make
    for name in names:
        subprocess.run(['docker', 'network', 'rm', name], capture_output=True)


@pytest.fixture
def make_network(network_names: Callable[[], str]) -> MakeNetwork:
    """A network made with the CLI (as someone outside Berth would)."""

    def make(*options: str) -> str:
        name = network_names()
        subprocess.run(['docker', 'network', 'create', *options, name], check=True, capture_output=True)
        return name

    return make


async def succeeded(services: Services, job: Job) -> Job:
    done = await finished(services, job)
    assert done.status == 'succeeded', done.message
    return done


def bt_container() -> str:
    return f'bt-net-c-{uuid.uuid4().hex[:8]}'


def networks_of(services: Services, container: str) -> list[str]:
    row = services.state.find(container)
    return row.networks if row else []


async def in_state(services: Services, name: str) -> None:
    await eventually(lambda: any(row.name == name for row in services.state.networks.values()), what=f'{name} listed')


async def test_create_connect_with_alias_and_address_disconnect_remove(
    services: Services, network_names: Callable[[], str], make_container: Callable[..., str]
) -> None:
    name = network_names()
    # When an operator creates an internal network with its own subnet, gateway, IP range and a label
    job = await services.commands.create_network(
        OPERATOR,
        name,
        internal=True,
        subnet='10.213.1.0/24',
        gateway='10.213.1.1',
        ip_range='10.213.1.128/25',
        labels={'team': 'ops'},
    )
    assert (await succeeded(services, job)).message == ('created (bridge, subnet 10.213.1.0/24, internal)')
    # Then docker network inspect shows exactly that, with the bridge driver
    data = inspect(name)
    assert (data['Driver'], data['Internal'], data['Labels']) == ('bridge', True, {'team': 'ops'})
    assert data['IPAM']['Config'] == [
        {'Subnet': '10.213.1.0/24', 'IPRange': '10.213.1.128/25', 'Gateway': '10.213.1.1'}
    ]
    await in_state(services, name)
    # When a running container is connected with two aliases and a fixed address
    container = make_container(name=bt_container())
    await eventually(lambda: services.state.find(container) is not None, what='the container listed')
    job = await services.commands.connect_network(OPERATOR, name, container, aliases='db, cache', ipv4='10.213.1.5')
    assert (await succeeded(services, job)).message == 'connected (aliases db, cache, IPv4 10.213.1.5)'
    # Then the network lists it at that address, and the container answers to both aliases there
    members = list(inspect(name)['Containers'].values())
    assert [(member['Name'], member['IPv4Address']) for member in members] == [(container, '10.213.1.5/24')]
    result = subprocess.run(
        [
            'docker',
            'inspect',
            '--format',
            f'{{{{json (index .NetworkSettings.Networks "{name}").Aliases}}}}',
            container,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    assert {'db', 'cache'} <= set(json.loads(result.stdout))
    # And while it is connected, the network cannot be removed: the refusal names the container
    await eventually(lambda: name in networks_of(services, container), what='the connection seen')
    with pytest.raises(CommandError, match=f'still has containers connected \\({container}\\): disconnect them first'):
        await services.commands.remove_network(OPERATOR, name)
    # When it is disconnected, the network is empty and can be removed
    job = await services.commands.disconnect_network(OPERATOR, name, container)
    assert (await succeeded(services, job)).message == 'disconnected'
    assert inspect(name)['Containers'] == {}
    await eventually(lambda: name not in networks_of(services, container), what='the disconnection seen')
    job = await services.commands.remove_network(OPERATOR, name)
    assert (await succeeded(services, job)).message == 'removed'
    assert not exists(name)


async def test_wrong_requests_get_a_sentence_and_queue_nothing(
    services: Services, make_network: MakeNetwork, network_names: Callable[[], str]
) -> None:
    wide = make_network('--subnet', '10.213.64.0/20')
    await in_state(services, wide)
    name = network_names()
    for fields, sentence in [
        ({'subnet': '10.213.2.0/33'}, '10.213.2.0/33 is not a valid subnet: the prefix length must be 0–32'),
        ({'subnet': '10.213.2.0/24', 'gateway': '10.213.3.1'}, 'the gateway 10.213.3.1 is outside the subnet'),
        ({'subnet': '10.213.2.0/24', 'ip_range': '10.213.3.0/25'}, 'the IP range 10.213.3.0/25 must lie inside'),
        ({'subnet': '10.213.65.0/24'}, f'10.213.65.0/24 overlaps the subnet 10.213.64.0/20 of the network {wide}'),
    ]:
        with pytest.raises(CommandError, match=sentence.replace('(', '\\(')):
            await services.commands.create_network(OPERATOR, name, **fields)
    with pytest.raises(CommandError, match=f'a network named {wide} already exists'):
        await services.commands.create_network(OPERATOR, wide)
    with pytest.raises(Forbidden, match=re.escape("Berth's own labels (berth.owner) need the admin role")):
        await services.commands.create_network(OPERATOR, name, labels={'berth.owner': 'someone'})
    assert not services.jobs.jobs and not exists(name)


async def test_the_engines_own_networks_are_refused_by_the_panel_and_by_the_worker(services: Services) -> None:
    for built_in in ('bridge', 'host', 'none'):
        with pytest.raises(CommandError, match=f"{built_in} is one of the engine's own networks"):
            await services.commands.remove_network(OPERATOR, built_in)
    assert not services.jobs.jobs
    # Even a signed job that skipped the panel's checks is refused by the worker, which looks for itself
    bridge = next(row for row in services.state.networks.values() if row.name == 'bridge')
    job = await services.commands.dispatch(
        OPERATOR,
        permission=Permission.NETWORK_REMOVE,
        what='remove networks',
        kind='network.remove',
        target=bridge.id,
        target_name='bridge',
        params={},
        arguments=('remove', bridge.id),
    )
    done = await finished(services, job)
    assert (done.status, done.message) == (
        'failed',
        "refused: bridge is one of the engine's own networks (bridge, host, none): it cannot be removed",
    )
    assert exists('bridge')


async def test_the_worker_creates_bridge_networks_only(services: Services, network_names: Callable[[], str]) -> None:
    name = network_names()
    forged = {**NetworkSpec(name=name).to_dict(), 'driver': 'macvlan'}
    job = await services.commands.dispatch(
        OPERATOR,
        permission=Permission.NETWORK_CREATE,
        what='create networks',
        kind='network.create',
        target=name,
        target_name=name,
        params={'spec': forged},
        arguments=('create', ''),
    )
    done = await finished(services, job)
    assert (done.status, done.message) == ('failed', 'refused: only bridge networks can be created here')
    assert not exists(name)


async def test_a_stopped_container_keeps_its_network(
    services: Services, make_network: MakeNetwork, make_container: Callable[..., str]
) -> None:
    # Given a network only a stopped container is connected to (the daemon itself would remove it)
    name = make_network('--subnet', '10.213.4.0/24')
    container = make_container(name=bt_container(), start=False, extra=['--network', name])
    await eventually(lambda: name in networks_of(services, container), what='the container listed')
    # Then the panel refuses, naming the container, and so does the worker if asked directly
    with pytest.raises(CommandError, match=f'still has containers connected \\({container}\\)'):
        await services.commands.remove_network(OPERATOR, name)
    network = next(row for row in services.state.networks.values() if row.name == name)
    job = await services.commands.dispatch(
        OPERATOR,
        permission=Permission.NETWORK_REMOVE,
        what='remove networks',
        kind='network.remove',
        target=network.id,
        target_name=name,
        params={},
        arguments=('remove', network.id),
    )
    done = await finished(services, job)
    assert (done.status, done.message) == (
        'failed',
        f'refused: the network {name} still has containers connected ({container}): disconnect them first',
    )
    assert exists(name)
    # And it is not offered for a prune
    assert name not in [row.name for row in services.commands.network_prune_candidates()]


async def test_prune_removes_exactly_the_confirmed_list(
    services: Services, make_network: MakeNetwork, make_container: Callable[..., str]
) -> None:
    # Given two unused networks and one a container uses
    first, second = make_network('--subnet', '10.213.5.0/24'), make_network()
    used = make_network('--subnet', '10.213.6.0/24')
    make_container(name=bt_container(), extra=['--network', used])
    await eventually(
        lambda: (
            {first, second} <= {row.name for row in services.commands.network_prune_candidates()}
            and used in {name for row in services.state.containers.values() for name in row.networks}
        ),
        what='the preview',
    )
    candidates = [row.name for row in services.commands.network_prune_candidates()]
    assert used not in candidates and not {'bridge', 'host', 'none'} & set(candidates)
    # When the user confirms only the first one, only it goes
    job = await services.commands.prune_networks(OPERATOR, [first])
    assert (await succeeded(services, job)).message == f'removed 1 network ({first})'
    assert (exists(first), exists(second), exists(used)) == (False, True, True)
    # And a list that no longer holds (gone, or in use) is refused before anything runs
    await eventually(lambda: first not in [row.name for row in services.state.networks.values()], what='first gone')
    for stale in ([first, second], [used]):
        with pytest.raises(CommandError, match='the list changed meanwhile'):
            await services.commands.prune_networks(OPERATOR, stale)
    assert exists(second)


async def test_a_viewer_changes_nothing(services: Services, make_network: MakeNetwork) -> None:
    name = make_network()
    await in_state(services, name)
    with pytest.raises(Forbidden, match='needs the operator role'):
        await services.commands.remove_network(VIEWER, name)
    assert exists(name) and not services.jobs.jobs
    assert services.audit.entries(username=VIEWER.username)[0].action == 'network.remove'
