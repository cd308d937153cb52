"""Socket.IO packets whose binary check does not cost a re-render's time.

python-socketio looks through every message it sends for ``bytes`` (to send them as binary attachments) with a
recursive ``functools.reduce`` that builds a list of answers for every list and dict, all the way down. NiceGUI sends a
page's updates as one message per element batch per browser tab, so a live table of 50 rows was walked cell by cell
for every person on the page at every change: about a quarter of the event loop's time under bench/load.py. The same
check, walked with a stack and stopping at the first ``bytes``, gives the same answer for any message.
"""

from __future__ import annotations

from typing import Any

import socketio.packet
from nicegui import core

SCALARS = (str, int, float, bool, type(None))


class QuickBinaryCheckPacket(socketio.packet.Packet):  # type: ignore[misc]  # python-socketio has no type hints
    @classmethod
    def data_is_binary(cls, data: Any) -> bool:
        """True when ``bytes`` or a ``bytearray`` is anywhere in ``data`` (inside lists and dicts, as the original)."""
        pending = [data]
        while pending:
            item = pending.pop()
            if type(item) in SCALARS:
                continue
            if isinstance(item, (bytes, bytearray)):
                return True
            if isinstance(item, list):
                pending.extend(item)
            elif isinstance(item, dict):
                pending.extend(item.values())
        return False


def install() -> None:
    """NiceGUI's Socket.IO server builds its packets with :class:`QuickBinaryCheckPacket` from now on."""
    core.sio.packet_class = QuickBinaryCheckPacket
