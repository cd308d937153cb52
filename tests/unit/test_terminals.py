"""The terminals service: sessions opened through it end when it stops (the panel's shells never outlive it)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from core.docker.endpoints import Endpoint, Endpoints
from core.permissions import LOCAL_ENDPOINT
from core.streams.exec_session import ExecRequest, SessionError, Terminals


class FakeApi:
    """The few exec calls a session makes; the container's end of each connection is kept in ``container_ends``."""

    def __init__(self) -> None:
        self.container_ends: list[socket.socket] = []

    def exec_create(self, container_id: str, command: list[str], **options: Any) -> dict[str, str]:
        return {'Id': f'exec-{len(self.container_ends)}'}

    def exec_start(self, exec_id: str, **options: Any) -> socket.socket:
        ours, theirs = socket.socketpair()
        self.container_ends.append(theirs)
        return ours

    def exec_resize(self, exec_id: str, **size: int) -> None:
        pass

    def exec_inspect(self, exec_id: str) -> dict[str, Any]:
        return {'Running': False, 'ExitCode': 0, 'Pid': 0}


class FakeEndpoints(Endpoints):
    def __init__(self, api: FakeApi) -> None:
        super().__init__([Endpoint(id=LOCAL_ENDPOINT, name='local')])
        self.api = api

    def client(self, endpoint_id: str = LOCAL_ENDPOINT) -> Any:
        self.get(endpoint_id)
        return self


async def test_stop_ends_every_open_session_and_no_new_one_opens() -> None:
    api = FakeApi()
    terminals = Terminals(FakeEndpoints(api))
    exits: list[int | None] = []

    def session() -> Any:
        return terminals.session(
            ExecRequest(container_id='c1', command='sh'),
            loop=asyncio.get_running_loop(),
            on_output=lambda text: None,
            on_exit=exits.append,
        )

    first, second = session(), session()
    await asyncio.to_thread(first.open, 24, 80)
    await asyncio.to_thread(second.open, 24, 80)
    assert set(terminals.open_sessions) == {first, second}

    await terminals.stop()

    assert terminals.open_sessions == []
    for end in api.container_ends:  # the container's side of each connection sees it end
        end.settimeout(5)
        assert end.recv(1) == b''
    for _ in range(100):
        if len(exits) == 2:
            break
        await asyncio.sleep(0.02)
    assert exits == [0, 0]
    late = session()
    with pytest.raises(SessionError, match='stopping'):
        await asyncio.to_thread(late.open, 24, 80)
