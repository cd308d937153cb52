"""Dialogs that ask before a volume changes: create (name, driver, labels, driver options for admins), remove
(naming the containers that use it, with 'force'), prune (the exact list and the space that comes back)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from nicegui import ui

from core.commands.volume_input import DEFAULT_DRIVER, name_problem
from core.commands.volumes import VOLUME_PRUNE_MODES
from core.state.containers import ContainerRow
from core.state.images import format_size
from core.state.volumes import VolumeRow

from .image_dialogs import AskingDialog

# the create dialog hands the fields to this; it answers with the sentence to show, or None once the job is queued
CreateVolume = Callable[[str, str, str, str], Awaitable[str | None]]


def sentence(text: str) -> str:
    return f'{text[:1].upper()}{text[1:]}'


class CreateVolumeDialog(AskingDialog):
    """Name (checked as typed, by the engine's rule), driver, labels and, for admins, driver options; a refusal or a
    wrong field is shown in the dialog, which stays open."""

    def __init__(self, create: CreateVolume, *, driver_options: bool) -> None:
        super().__init__()
        self.create = create
        with self, ui.card().classes('gap-2 w-[32rem] max-w-full').props('role=dialog aria-label="New volume"'):
            ui.label('New volume').classes('text-h6')
            self.name = (
                ui.input(
                    'Name',
                    validation=lambda text: (
                        sentence(problem) if (problem := name_problem((text or '').strip())) else None
                    ),
                )
                .props('autofocus')
                .classes('w-full')
            )
            self.driver = ui.input('Driver', value=DEFAULT_DRIVER).classes('w-full')
            self.labels = ui.textarea('Labels', placeholder='team=shop').props('autogrow').classes('w-full')
            ui.label('One key=value a line.').classes('text-caption')
            self.options: ui.textarea | None = None
            if driver_options:  # only shown to those who may set them; the server checks anyway
                self.options = (
                    ui.textarea('Driver options', placeholder='type=tmpfs\ndevice=tmpfs\no=size=64m')
                    .props('autogrow')
                    .classes('w-full')
                )
            self.problem = ui.label().classes('text-negative').props('role=alert')
            self.problem.set_visibility(False)
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                self.confirm = ui.button('Create', on_click=self._confirm).props('aria-label="Create volume"')

    @property
    def typed_name(self) -> str:
        return str(self.name.value or '').strip()

    async def _confirm(self) -> None:
        if not self.name.validate():
            return
        self.confirm.props('loading')
        try:
            problem = await self.create(
                self.typed_name,
                self.driver.value or '',
                self.labels.value or '',
                self.options.value or '' if self.options is not None else '',
            )
        finally:
            self.confirm.props(remove='loading')
        if problem is None:
            self.submit(self.typed_name)
            return
        self.problem.text = problem
        self.problem.set_visibility(True)


class RemoveVolumeDialog(AskingDialog):
    """Asks before removing a volume; when containers use it, names them and offers 'force' (which removes them)."""

    def __init__(self, volume: VolumeRow, users: list[ContainerRow]) -> None:
        super().__init__()
        with self, ui.card().classes('gap-2 w-[32rem] max-w-full').props('role=dialog aria-label="Remove volume"'):
            ui.label(f'Remove volume {volume.name}?').classes('text-h6 break-all')
            ui.label('Its data is deleted for good.').classes('text-body2')
            self.force: ui.checkbox | None = None
            if users:
                names = ', '.join(f'{row.name} ({row.state})' for row in users)
                ui.label(f'In use by {names}: the engine refuses unless forced.').classes('text-warning break-all')
                them = 'them' if len(users) > 1 else 'it'
                self.force = ui.checkbox(f'Force (remove the container{"s" if len(users) > 1 else ""} using {them})')
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                ui.button(
                    'Remove',
                    color='negative',
                    on_click=lambda: self.submit({'force': bool(self.force and self.force.value)}),
                ).props('aria-label="Confirm remove"')


class PruneVolumesDialog(AskingDialog):
    """The mode (unused anonymous volumes by default; all unused ones only when chosen), exactly the volumes that
    go, and the space that comes back when the sizes are known; answers ``(mode, names)``."""

    def __init__(self, candidates: Callable[[str], list[VolumeRow]], sizes: Mapping[str, int] | None) -> None:
        super().__init__()
        self.candidates = candidates
        self.sizes = sizes
        self.listed: list[VolumeRow] = []
        self.kept: set[str] = set()  # listed volumes the user unticked: they stay
        with self, ui.card().classes('gap-2 w-[40rem] max-w-full').props('role=dialog aria-label="Prune volumes"'):
            ui.label('Prune volumes').classes('text-h6')
            self.mode = ui.radio(
                {'anonymous': 'Unused anonymous volumes', 'all': 'All unused volumes (named ones too)'},
                value='anonymous',
                on_change=self.show,
            ).props('aria-label="Which volumes"')
            self.summary = ui.label().classes('text-body2')
            self.space = ui.label().classes('text-body2')
            with ui.scroll_area().classes('w-full h-64 border') as self.scroll:
                self.list = ui.column().classes('w-full gap-1').props('role=list aria-label="Volumes to remove"')
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                self.confirm = ui.button('Confirm', color='negative', on_click=self._confirm).props(
                    'aria-label="Confirm prune"'
                )
        self.show()

    def show_sizes(self, sizes: Mapping[str, int] | None) -> None:
        self.sizes = sizes
        self.show()

    def show(self) -> None:
        mode = str(self.mode.value)
        self.listed = self.candidates(mode)
        self.kept &= {volume.name for volume in self.listed}
        self._render_list()

    def _render_list(self) -> None:
        self._tick('', True)  # summary, space and the confirm button for what is ticked
        self.scroll.set_visibility(bool(self.listed))
        self.list.clear()
        with self.list:
            for volume in self.listed:
                with ui.row().classes('w-full no-wrap gap-3 items-center').props('role=listitem'):
                    ui.checkbox(
                        value=volume.name not in self.kept,
                        on_change=lambda event, name=volume.name: self._tick(name, bool(event.value)),
                    ).props(f'dense aria-label="Remove {volume.name}"')
                    ui.label(volume.name).classes('grow break-all font-mono text-sm')
                    size = self.sizes.get(volume.name) if self.sizes is not None else None
                    ui.label(format_size(size) if size is not None else '—').classes('w-20 text-right')

    @property
    def chosen(self) -> list[VolumeRow]:
        return [volume for volume in self.listed if volume.name not in self.kept]

    def _tick(self, name: str, remove: bool) -> None:
        if not remove:
            self.kept.add(name)
        elif name:
            self.kept.discard(name)
        self.summary.text, self.space.text = self._summary(), self._space()
        count = len(self.chosen)
        self.confirm.set_enabled(count > 0)
        self.confirm.text = f'Remove {count}' if count else 'Confirm'

    def _summary(self) -> str:
        count = len(self.chosen)
        what = VOLUME_PRUNE_MODES[str(self.mode.value)]
        if not self.listed:
            return f'There are no {what}.'
        return f'Remove {count} volume{"s" if count != 1 else ""}?' if count else 'Nothing ticked to remove.'

    def _space(self) -> str:
        chosen = self.chosen
        if not chosen:
            return ''
        if self.sizes is None:
            return 'The space that comes back is not known yet.'
        known = [self.sizes[volume.name] for volume in chosen if volume.name in self.sizes]
        text = f'{format_size(sum(known))} of disk space comes back'
        unknown = len(chosen) - len(known)
        return f'{text} (and whatever the {unknown} not measured hold).' if unknown else f'{text}.'

    def _confirm(self) -> None:
        if self.chosen:
            self.submit((str(self.mode.value), [volume.name for volume in self.chosen]))
