"""A browser tab's re-render when what it shows changes: coalesced, and only while the tab is connected.

Pages re-render from listeners (the state, the jobs), which run for every page the panel holds. A page fetched whose
socket has not connected yet, or never will (a GET by a script, a link preview: NiceGUI keeps such a page for a
minute), or a tab reconnecting cannot show a render: nothing is rendered for it then, and it renders once when its
socket connects. Under a burst of jobs (bench/load.py) the pages fetched by GET /jobs alone re-rendered the whole
job centre several times a second each, most of the event loop's time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from nicegui import ui


class TabRender:
    """``render`` on :meth:`request`: at once (the loop's next turn), then at most once per ``every`` seconds while
    requests keep coming; while the tab's socket is not connected, once when it connects."""

    def __init__(self, render: Callable[[], None], every: float) -> None:
        self.client = ui.context.client
        self.render = render
        self.every = every
        self._pending: asyncio.TimerHandle | None = None
        self._last = 0.0
        self._stale = False
        self.client.on_connect(self._on_connect)
        self.client.on_delete(self.cancel)

    def request(self) -> None:
        if not self.client.has_socket_connection:
            self._stale = True
            return
        if self._pending is None:
            loop = asyncio.get_running_loop()
            self._pending = loop.call_later(max(0.0, self._last + self.every - loop.time()), self._flush)

    def _flush(self) -> None:
        self._pending = None
        self._last = asyncio.get_running_loop().time()
        if not self.client.is_deleted:
            self.render()

    def _on_connect(self) -> None:
        if self._stale:
            self._stale = False
            self.request()

    def cancel(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
