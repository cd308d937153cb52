"""The container page's Stats tab: live charts of CPU, memory, network and block I/O and processes over the last five
minutes, with the current figures beside them.

The view subscribes to the panel's shared stream (``services.stats``) only while it is shown, after checking the
viewer may read the container (again at every showing); leaving the tab, closing the page or deleting the element
unsubscribes. The history is drawn whole when the view subscribes; then new samples go out at most once a second,
alone (see ``components/stats_charts.py``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from nicegui import ui

from components.stats_charts import (
    BINARY_BYTES,
    BYTES_PER_SECOND,
    COUNT,
    PERCENT,
    PUSH_SCRIPT,
    SeriesSpec,
    StatsChart,
    binary_size,
    per_second,
)
from core.permissions import Forbidden, Permission, require
from core.state.containers import ContainerRow
from core.streams.stats_hub import StatsUpdate
from core.streams.stats_stream import StatsSample

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

REFRESH_SECONDS = 1.0
WHAT = 'see container stats'
WAITING = 'Waiting for the first figures…'
LIVE = 'Live: the last 5 minutes, a sample a second.'
USED = SeriesSpec(name='Used', color='#ab47bc')
RECEIVED, SENT = SeriesSpec(name='Received', color='#26a69a'), SeriesSpec(name='Sent', color='#ffa726')
READ, WRITTEN = SeriesSpec(name='Read', color='#5c6bc0'), SeriesSpec(name='Written', color='#ef5350')
PROCESSES = SeriesSpec(name='Processes', color='#8d6e63')


class StatsView(ui.column):
    """Charts and figures of one container, fed by the shared stats stream while the view is shown."""

    def __init__(self, services: Services, row: ContainerRow) -> None:
        super().__init__()
        self.classes('w-full gap-3')
        self.services = services
        self.endpoint, self.container_id, self.scope = row.endpoint, row.id, row.scope
        self.unsubscribe_stats: Callable[[], None] | None = None
        self.closed = False
        self.latest: StatsSample | None = None
        self.status_text = ''
        self.redraw = False  # the history came: send the charts whole
        self.flush_handle: asyncio.TimerHandle | None = None
        self.sent_at = 0.0
        ui.add_head_html(f'<script>{PUSH_SCRIPT}</script>')
        with self:
            self.status = ui.label(WAITING).classes('text-caption').props('role=status')
            self.refusal = ui.label().props('role=alert')
            self.refusal.set_visibility(False)
            with ui.grid().classes('w-full gap-3 grid-cols-1 lg:grid-cols-2'):
                self.cpu, self.cpu_chart = _card('CPU', [SeriesSpec(name='CPU', color='#42a5f5')], PERCENT, 1)
                self.memory, self.memory_chart = _card('Memory', [USED], BINARY_BYTES, 2**20)
                self.network, self.network_chart = _card('Network', [RECEIVED, SENT], BYTES_PER_SECOND, 1000)
                self.block, self.block_chart = _card('Block I/O', [READ, WRITTEN], BYTES_PER_SECOND, 1000)
                self.pids, self.pids_chart = _card('Processes', [PROCESSES], COUNT, 5)
        self.charts = (self.cpu_chart, self.memory_chart, self.network_chart, self.block_chart, self.pids_chart)
        ui.context.client.on_delete(self.close)

    @property
    def subscribed(self) -> bool:
        return self.unsubscribe_stats is not None

    def show(self) -> None:
        """The tab is shown: check the viewer may read the container, then follow its figures."""
        if self.closed or self.subscribed:
            return
        try:
            require(self.services.sessions.current(), Permission.CONTAINER_READ, WHAT, self.scope)
        except Forbidden as refusal:
            self.refusal.text = f'{str(refusal)[:1].upper()}{str(refusal)[1:]}.'
            self.refusal.set_visibility(True)
            return
        self.refusal.set_visibility(False)
        self.unsubscribe_stats = self.services.stats.subscribe(self.endpoint, self.container_id, self._on_update)

    def hide(self) -> None:
        """The tab is hidden: stop following (the stream is shared; the hub closes it when nobody follows)."""
        unsubscribe, self.unsubscribe_stats = self.unsubscribe_stats, None
        if unsubscribe is not None:
            unsubscribe()
        if self.flush_handle is not None:
            self.flush_handle.cancel()
            self.flush_handle = None

    def close(self) -> None:
        self.closed = True
        self.hide()

    def _handle_delete(self) -> None:
        self.close()
        super()._handle_delete()

    # --- samples in, at most one redraw a second out ---

    def _on_update(self, update: StatsUpdate) -> None:
        if update.history:
            for chart in self.charts:
                chart.clear_data()
            self.redraw = True
        for sample in update.samples:
            self._add(sample)
        self.status_text = update.status
        self._schedule()

    def _add(self, sample: StatsSample) -> None:
        frame, rates = sample.frame, sample.rates
        at_ms = int(frame.read_at * 1000)
        self.cpu_chart.add(at_ms, [round(frame.cpu_percent, 1)])
        self.memory_chart.add(at_ms, [frame.memory_used])
        self.network_chart.add(at_ms, [round(rates.net_rx), round(rates.net_tx)])
        self.block_chart.add(at_ms, [round(rates.block_read), round(rates.block_write)])
        self.pids_chart.add(at_ms, [frame.pids])
        self.latest = sample

    def _schedule(self) -> None:
        if self.flush_handle is not None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, self.sent_at + REFRESH_SECONDS - loop.time())
        self.flush_handle = loop.call_later(delay, self._flush)

    def _flush(self) -> None:
        self.flush_handle = None
        if self.closed or self.is_deleted:
            return
        self.sent_at = asyncio.get_running_loop().time()
        if self.redraw:
            self.redraw = False
            for chart in self.charts:
                chart.update()
        else:
            pushes = [chart.pushed() for chart in self.charts]
            if any(any(points) for _, points, _, _ in pushes):
                self.client.run_javascript(f'berthStatsPush({json.dumps(pushes)})')
        self.status.text = self.status_text or (LIVE if self.latest is not None else WAITING)
        if self.latest is not None:
            self._show_figures(self.latest)

    def _show_figures(self, sample: StatsSample) -> None:
        frame, rates = sample.frame, sample.rates
        self.cpu.text = f'CPU {frame.cpu_percent:.1f} %'
        self.memory.text = (
            f'Memory {binary_size(frame.memory_used)} of {binary_size(frame.memory_limit)} '
            f'({frame.memory_percent:.1f} %)'
        )
        self.network.text = f'Network in {per_second(rates.net_rx)}, out {per_second(rates.net_tx)}'
        self.block.text = f'Block I/O read {per_second(rates.block_read)}, write {per_second(rates.block_write)}'
        self.pids.text = f'Processes {frame.pids}'


def _card(title: str, series: list[SeriesSpec], axis_label: str, low_max: float) -> tuple[ui.label, StatsChart]:
    """A card: the current figure (its text starts with ``title``) above the chart of the last five minutes."""
    with ui.card().classes('w-full gap-1'):
        figure = ui.label(f'{title} —').classes('text-subtitle1 text-weight-medium font-mono')
        figure.mark(f'stats-{title.split(maxsplit=1)[0].lower()}')
        chart = StatsChart(label=title, series=series, axis_label=axis_label, low_max=low_max)
    return figure, chart
