"""DiskUsageCard: the engine's disk usage by type as a chart (in use and reclaimable), a line per type with a link to
its prune, and a Refresh button; ``GET /system/df`` is expensive, so it is read when the card opens and on request."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from nicegui import ui

from core.docker.client import describe_error
from core.docker.engine_facts import DiskUsage, disk_usage
from core.state.images import format_size

MB = 1e6
TEXT = '#9e9e9e'  # readable on the light and the dark background alike
GRID = 'rgba(128, 128, 128, 0.25)'


class DiskUsageCard(ui.card):
    def __init__(
        self,
        read: Callable[[], Awaitable[dict[str, Any]]],  # the engine's disk usage (``EngineReads.disk_usage``)
        *,
        kinds: Collection[str],  # the types this role may see ('Images', 'Containers', 'Local volumes', 'Build cache')
        prune_links: Mapping[str, str],  # type → the page that prunes it, for roles that may prune
    ) -> None:
        super().__init__()
        self.read = read
        self.kinds = kinds
        self.prune_links = prune_links
        self.classes('w-full gap-2')
        with self:
            with ui.row().classes('w-full items-center'):
                ui.label('Disk usage').classes('text-h6')
                self.measured = ui.label('Measuring…').classes('text-caption')
                ui.space()
                self.refresh_button = ui.button(icon='refresh', on_click=self.refresh).props(
                    'flat round dense aria-label="Refresh disk usage"'
                )
            self.chart = ui.echart(chart_options([])).classes('w-full h-44')
            self.lines = ui.column().classes('w-full gap-1')
            ui.timer(0.01, self.refresh, once=True)  # once the page is connected: the page never waits for it

    async def refresh(self) -> None:
        self.refresh_button.props('loading')
        try:
            usage = [kind for kind in disk_usage(await self.read()) if kind.kind in self.kinds]
        except Exception as error:  # engine away or too slow: say so, keep the last figures
            self.measured.text = f'Could not read the disk usage: {describe_error(error)}.'
            return
        finally:
            self.refresh_button.props(remove='loading')
        self.measured.text = f'measured at {time.strftime("%H:%M:%S")}'
        self.chart.options.clear()
        self.chart.options.update(chart_options(usage))
        self.chart.update()
        self.lines.clear()
        with self.lines:
            for kind in usage:
                with ui.row().classes('items-center gap-2').mark(f'disk-{kind.kind}'):
                    ui.label(kind.kind).classes('w-28 text-weight-medium')
                    ui.label(describe(kind))
                    link = self.prune_links.get(kind.kind)
                    if link and kind.reclaimable:
                        ui.link(f'Prune {kind.kind.lower()}…', link)


def describe(kind: DiskUsage) -> str:
    """'12 (3 in use): 1.2 GB, 800 MB reclaimable (66 %)'."""
    share = f' ({100 * kind.reclaimable / kind.size:.0f} %)' if kind.size else ''
    return (
        f'{kind.total} ({kind.active} in use): {format_size(kind.size)}, '
        f'{format_size(kind.reclaimable)} reclaimable{share}'
    )


def chart_options(usage: list[DiskUsage]) -> dict[str, Any]:
    """A horizontal stacked bar per type: in use, then reclaimable, in MB; transparent, grey text (dark mode too)."""
    names = [kind.kind for kind in usage]
    return {
        'backgroundColor': 'transparent',
        'textStyle': {'color': TEXT},
        'tooltip': {'trigger': 'axis', 'axisPointer': {'type': 'shadow'}},
        'legend': {'data': ['In use', 'Reclaimable'], 'top': 0, 'right': 0, 'textStyle': {'color': TEXT}},
        'grid': {'left': 100, 'right': 24, 'top': 32, 'bottom': 24},
        'xAxis': {
            'type': 'value',
            'axisLabel': {'formatter': '{value} MB', 'color': TEXT},
            'splitLine': {'lineStyle': {'color': GRID}},
        },
        'yAxis': {'type': 'category', 'data': names, 'axisLabel': {'color': TEXT}},
        'series': [
            {
                'name': 'In use',
                'type': 'bar',
                'stack': 'size',
                'color': '#1976d2',
                'data': [round(kind.in_use / MB, 1) for kind in usage],
            },
            {
                'name': 'Reclaimable',
                'type': 'bar',
                'stack': 'size',
                'color': '#f2a33a',
                'data': [round(kind.reclaimable / MB, 1) for kind in usage],
            },
        ],
    }
