"""Flow 1 against the real engine: CLI changes reach the state model through /events, never by polling."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable

from core.state.model import StateChange
from system import Services
from tests.support.eventually import eventually


async def test_container_made_with_the_cli_appears_changes_and_goes(
    services: Services, make_container: Callable[..., str]
) -> None:
    changes: list[StateChange] = []
    services.state.subscribe(changes.append)
    # When a container is started with the plain docker CLI
    name = make_container(labels={'com.docker.compose.project': 'shop'})
    # Then it appears in the state, running, with its compose project
    await eventually(
        lambda: (row := services.state.find(name)) is not None and row.state == 'running',
        what=f'{name} running in state',
    )
    row = services.state.find(name)
    assert row is not None and row.project == 'shop' and row.image == 'berth-test/busybox:latest'
    # When it is killed and removed outside Berth, the state follows
    subprocess.run(['docker', 'kill', name], check=True, capture_output=True)
    await eventually(lambda: services.state.containers[row.id].state == 'exited', what='exited')
    subprocess.run(['docker', 'rm', name], check=True, capture_output=True)
    await eventually(lambda: row.id not in services.state.containers, what='removed from state')
    assert {change.kind for change in changes} >= {'upsert', 'remove'}
    assert services.state.synced_at > 0


async def test_the_state_only_changes_through_events(services: Services, make_container: Callable[..., str]) -> None:
    """No polling loop: with no daemon events, the model is not touched."""
    name = make_container()
    # created, then started: two events; wait for the second before listening
    await eventually(lambda: getattr(services.state.find(name), 'state', '') == 'running', what='appears running')
    resyncs = services.state.synced_at
    changes: list[StateChange] = []
    services.state.subscribe(changes.append)

    await asyncio.sleep(2)
    row = services.state.find(name)
    assert row is not None
    # other containers on a shared host may change meanwhile; ours did not, and no resync ran
    assert [change for change in changes if change.container_id == row.id or change.kind == 'reset'] == []
    assert services.state.synced_at == resyncs
