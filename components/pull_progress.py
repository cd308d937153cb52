"""PullProgress (an overall bar and one bar per layer, updated in place) and PullCard (one pull, inline)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

from core.jobs.store import ACTIVE, Job, JobStatus
from core.operations.pull import DONE, LayerProgress
from core.state.images import format_size

PHASE_COLORS = {'Downloading': 'primary', 'Extracting': 'secondary'}
STATUS_COLORS = {
    JobStatus.QUEUED: 'grey',
    JobStatus.RUNNING: 'info',
    JobStatus.SUCCEEDED: 'positive',
    JobStatus.FAILED: 'negative',
}


class LayerBar(ui.row):
    """One layer: short id, the daemon's status, a bar for the current phase and its byte counts."""

    def __init__(self, layer_id: str) -> None:
        super().__init__(wrap=False)
        self.classes('w-full items-center gap-3 no-wrap')
        with self:
            ui.label(layer_id).classes('font-mono text-sm w-28')
            self.status = ui.label().classes('text-sm w-40')
            self.bar = (
                ui.linear_progress(value=0, show_value=False, size='10px')
                .classes('grow')
                .props(f'instant-feedback aria-label="Layer {layer_id}"')
            )
            self.bytes = ui.label().classes('text-sm font-mono w-44 text-right')

    def show(self, layer: LayerProgress) -> None:
        self.status.text = layer.status
        if layer.status in DONE:
            value, color = 1.0, 'positive'
        elif layer.status in PHASE_COLORS and layer.total:
            value, color = min(1.0, layer.current / layer.total), PHASE_COLORS[layer.status]
        else:
            value, color = (1.0, 'primary') if layer.fraction >= 0.5 else (0.0, 'grey')
        self.bar.value = round(value, 3)
        if self.bar.props.get('color') != color:  # props() always re-sends the element; the value alone is cheap
            self.bar.props(f'color={color}')
        self.bytes.text = (
            f'{format_size(layer.current)} / {format_size(layer.total)}'
            if layer.total and layer.status in PHASE_COLORS
            else ''
        )


class PullProgress(ui.column):
    """The whole pull: the overall fraction, and the layers in the daemon's order."""

    def __init__(self) -> None:
        super().__init__()
        self.classes('w-full gap-1')
        with self:
            with ui.row().classes('w-full items-center gap-3 no-wrap'):
                ui.label('Overall').classes('text-weight-medium w-28')
                self.overall = (
                    ui.linear_progress(value=0, show_value=False, size='14px')
                    .classes('grow')
                    .props('instant-feedback aria-label="Overall progress"')
                    .mark('overall-progress')
                )
                self.percent = ui.label('0 %').classes('font-mono w-16 text-right')
            self.layers_box = ui.column().classes('w-full gap-1')
        self.bars: dict[str, LayerBar] = {}

    def show(self, progress: float | None, detail: dict[str, Any]) -> None:
        """Applies the job's latest progress and detail ({'layers': [...]}); creates bars for new layers only."""
        if progress is not None:
            self.overall.value = round(progress, 3)
            self.percent.text = f'{progress * 100:.0f} %'
        for data in detail.get('layers') or []:
            layer = LayerProgress(**{key: data[key] for key in ('id', 'status', 'current', 'total') if key in data})
            bar = self.bars.get(layer.id)
            if bar is None:
                with self.layers_box:
                    bar = self.bars[layer.id] = LayerBar(layer.id)
            bar.show(layer)


class PullCard(ui.card):
    """One pull in the page that started it: reference, status, cancel, live progress, a link to its job page."""

    def __init__(self, job: Job, on_cancel: Callable[[str], None]) -> None:
        super().__init__()
        self.job_id = job.job_id
        self.classes('w-full gap-1').props('flat bordered')
        with self:
            with ui.row().classes('w-full items-center gap-2'):
                ui.label(f'Pull {job.target_name}').classes('text-subtitle1 break-all')
                self.badge = ui.badge(job.status).props('aria-label="Pull status"')
                ui.space()
                ui.link('Job page', f'/jobs/{job.job_id}')
                self.cancel = ui.button('Cancel', on_click=lambda: on_cancel(self.job_id)).props(
                    'flat dense no-caps color=negative aria-label="Cancel pull"'
                )
            self.message = ui.label().classes('text-caption break-all')
            self.progress = PullProgress()
        self.show(job)

    def show(self, job: Job) -> None:
        self.badge.text = job.status
        if self.badge.props.get('color') != STATUS_COLORS.get(job.status):
            self.badge.props(f'color={STATUS_COLORS.get(job.status, "grey")}')
        self.message.text = job.message
        self.cancel.set_visibility(job.status in ACTIVE)
        self.progress.show(job.progress, job.detail)
