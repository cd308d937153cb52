"""What the Stats tab draws: the charts' ECharts options (readable in light and dark mode) and the figures' wording.

Each chart keeps one ``[milliseconds, value]`` list per series in its options. The options go to the browser whole
only when a view (re)subscribes and draws the history; after that each second's new points go alone
(:data:`PUSH_SCRIPT`): the browser appends them to the same lists and drops the points older than five minutes, as the
server does, so the chart is never made anew and a second costs a few hundred bytes per viewer, not the whole history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nicegui import ui

from core.state.images import format_size

WINDOW_MS = 5 * 60 * 1000
GAP_MS = 3000  # samples further apart than this are not joined by a line (the container was stopped meanwhile)
MUTED = '#9e9e9e'  # readable on white and on the dark background
GRID = 'rgba(158, 158, 158, 0.25)'
# y axis labels, in JavaScript (our own text, never anything from the engine)
PERCENT = '(value) => value + " %"'
COUNT = '(value) => String(value)'
BYTES_PER_SECOND = """(value) => {
  const units = [["GB", 1e9], ["MB", 1e6], ["kB", 1e3]];
  for (const [unit, scale] of units) if (value >= scale) return +(value / scale).toPrecision(3) + " " + unit + "/s";
  return value + " B/s";
}"""
BINARY_BYTES = """(value) => {
  const units = [["GiB", 2 ** 30], ["MiB", 2 ** 20], ["KiB", 2 ** 10]];
  for (const [unit, scale] of units) if (value >= scale) return +(value / scale).toPrecision(3) + " " + unit;
  return value + " B";
}"""


# defined once per page; ``berthStatsPush([[elementId, pointsPerSeries, min, max], ...])`` appends each chart's new
# points (skipping any it has already: a whole update may have carried them) and redraws it from its own options
PUSH_SCRIPT = """
window.berthStatsPush = (charts) => {
  for (const [id, points, min, max] of charts) {
    const element = getElement(id);
    if (!element || !element.options) continue;
    const series = element.options.series;
    points.forEach((added, index) => {
      const data = series[index].data;
      for (const point of added) if (!data.length || point[0] > data[data.length - 1][0]) data.push(point);
      let old = 0;
      while (old < data.length && data[old][0] < min) old++;
      if (old) data.splice(0, old);
    });
    Object.assign(element.options.xAxis, { min, max });
    if (element.chart) element.chart.setOption({ xAxis: { min, max }, series: series.map((s) => ({ data: s.data })) });
  }
};
"""


@dataclass(kw_only=True, slots=True, frozen=True)
class SeriesSpec:
    name: str
    color: str


class StatsChart(ui.echart):
    """A line chart over the last five minutes; ``add`` and ``clear_data`` change its data, ``update`` sends all of it,
    ``pushed`` takes what was added since the last ``update`` or ``pushed``, for :data:`PUSH_SCRIPT`."""

    def __init__(self, *, label: str, series: list[SeriesSpec], axis_label: str, low_max: float = 1.0) -> None:
        self._added: list[list[list[Any]]] = [[] for _ in series]  # before the element's own updates
        self.newest = 0
        super().__init__(chart_options(series, axis_label, low_max))
        self.props(f'role=img aria-label="{label} over the last 5 minutes"')
        self.classes('w-full h-44')

    @property
    def data(self) -> list[list[list[Any]]]:
        return [series['data'] for series in self.options['series']]

    def clear_data(self) -> None:
        with self.props.suspend_updates():  # the options are observed: a change would send them whole at once
            for points in self.data:
                points.clear()
        for added in self._added:
            added.clear()
        self.newest = 0

    def add(self, at_ms: int, values: list[float]) -> None:
        """One sample: a value per series, at ``at_ms``; a gap since the last one breaks the lines."""
        if at_ms <= self.newest:
            return
        with self.props.suspend_updates():  # sent whole by ``update``, or the new points alone by ``pushed``
            self._add(at_ms, values)

    def _add(self, at_ms: int, values: list[float]) -> None:
        for points, added, value in zip(self.data, self._added, values, strict=True):
            gap = bool(self.newest) and at_ms - self.newest > GAP_MS
            new: list[list[Any]] = [[self.newest + 1, None], [at_ms, value]] if gap else [[at_ms, value]]
            points.extend(new)
            added.extend(new)
            old = 0
            while old < len(points) and points[old][0] < at_ms - WINDOW_MS:
                old += 1
            del points[:old]
            del added[: max(0, len(added) - len(points))]
        self.newest = at_ms
        self.options['xAxis']['min'] = at_ms - WINDOW_MS
        self.options['xAxis']['max'] = at_ms

    def update(self) -> None:
        """Sends the whole options (the history); what was added so far goes with them."""
        for added in self._added:
            added.clear()
        super().update()

    def pushed(self) -> list[Any]:
        """``[id, points added per series, window start, window end]`` since the last call or update; then forgets
        them."""
        points = [list(added) for added in self._added]
        for added in self._added:
            added.clear()
        return [self.id, points, self.options['xAxis'].get('min'), self.options['xAxis'].get('max')]


def chart_options(series: list[SeriesSpec], axis_label: str, low_max: float) -> dict[str, Any]:
    """Lines without symbols or animation, on a transparent background with grey text (light and dark mode)."""
    return {
        'backgroundColor': 'transparent',
        'animation': False,
        'grid': {'left': 64, 'right': 12, 'top': 26, 'bottom': 24},
        'tooltip': {'trigger': 'axis'},
        'legend': {'show': len(series) > 1, 'top': 0, 'right': 0, 'textStyle': {'color': MUTED}},
        'xAxis': {
            'type': 'time',
            'axisLabel': {'color': MUTED, 'hideOverlap': True},
            'axisLine': {'lineStyle': {'color': GRID}},
            'splitLine': {'show': False},
        },
        'yAxis': {
            'type': 'value',
            'min': 0,
            ':max': f'(extent) => Math.max(extent.max, {low_max})',  # a flat zero line sits at the bottom
            'axisLabel': {'color': MUTED, ':formatter': axis_label},
            'splitLine': {'lineStyle': {'color': GRID}},
        },
        'series': [
            {
                'name': spec.name,
                'type': 'line',
                'showSymbol': False,
                'color': spec.color,
                'lineStyle': {'width': 1.5},
                'areaStyle': {'opacity': 0.12},
                'data': [],
            }
            for spec in series
        ],
    }


def binary_size(size: float) -> str:
    """Memory as ``docker stats`` prints it (binary units): '1.2 MiB', '7.75 GiB', '512 B'."""
    for unit, scale in (('GiB', 2**30), ('MiB', 2**20), ('KiB', 2**10)):
        if size >= scale:
            return f'{size / scale:.3g} {unit}' if size / scale < 100 else f'{size / scale:.0f} {unit}'
    return f'{int(size)} B'


def per_second(size: float) -> str:
    """I/O rates in decimal units, as ``docker stats`` prints I/O: '1.02 kB/s', '0 B/s'."""
    return f'{format_size(size)}/s'
