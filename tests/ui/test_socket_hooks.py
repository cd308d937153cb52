"""The socket guard has no way around it for tests: NiceGUI's simulated user never needed one."""

from __future__ import annotations

from uuid import uuid4

from nicegui import core
from nicegui.testing import User

from .test_pages import sign_in


async def test_a_handshake_on_no_real_socket_is_refused_whatever_its_id(user: User) -> None:
    # Given a signed-in page (the simulated user connects through NiceGUI's own handler, not the guarded one)
    await sign_in(user)
    assert user.client is not None
    # When a handshake for that page arrives on a socket id the server never accepted, named like the simulated user's
    handshake = core.sio.handlers['/']['handshake']
    accepted = await handshake(
        f'test-{uuid4()}', {'client_id': user.client.id, 'tab_id': user.tab_id, 'document_id': str(uuid4())}
    )
    # Then the guard refuses it
    assert accepted is False
