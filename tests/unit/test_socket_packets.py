"""NiceGUI's Socket.IO server checks its messages for binary parts with a stack walk that answers as python-socketio's
own check does, for any message (that check walked every cell of a live table for every tab at every change)."""

from __future__ import annotations

from typing import Any

import socketio.packet
from hypothesis import given, settings
from hypothesis import strategies as st
from nicegui import core

from components import socket_packets
from components.socket_packets import QuickBinaryCheckPacket

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5), st.binary(max_size=3)
)
MESSAGES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=3), inner, max_size=4),
        st.tuples(inner),  # tuples are not looked into, by either
        st.builds(bytearray, st.binary(max_size=2)),
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(MESSAGES)
def test_the_quick_check_answers_as_python_socketio_does(message: Any) -> None:
    assert QuickBinaryCheckPacket.data_is_binary(message) == socketio.packet.Packet.data_is_binary(message)


def test_bytes_deep_in_a_table_update_are_found_and_a_table_without_them_is_not_binary() -> None:
    rows = [{'id': str(index), 'ports': ['80/tcp'], 'update': None, 'busy': False} for index in range(50)]
    update = ['update', {'5': {'tag': 'q-table', 'props': {'rows': rows}}, '_id': 3}]
    assert not QuickBinaryCheckPacket.data_is_binary(update)
    rows[49]['ports'].append(b'\x00')
    assert QuickBinaryCheckPacket.data_is_binary(update)


def test_installed_the_panel_s_socket_server_builds_its_packets_with_the_quick_check() -> None:
    before = core.sio.packet_class
    try:
        socket_packets.install()
        packet = core.sio.packet_class(socketio.packet.EVENT, data=['update', {'x': [b'1']}])
        assert isinstance(packet, QuickBinaryCheckPacket)
        assert packet.packet_type == socketio.packet.BINARY_EVENT  # still sent as binary when it holds bytes
    finally:
        core.sio.packet_class = before
