"""PullForm: the image reference (validated before anything runs) and optional registry credentials."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from core.docker.reference import InvalidReference, parse_reference
from core.storage.credentials import SavedCredential

from .image_dialogs import reference_problem

OnPull = Callable[[str, str, str, bool], Awaitable[str | None]]  # reference, username, password, save → error


class PullForm(ui.card):
    """Calls ``on_pull`` only with a valid reference; shows its error (a sentence) under the reference field."""

    def __init__(
        self, on_pull: OnPull, saved: Callable[[], list[SavedCredential]], on_forget: Callable[[str], None]
    ) -> None:
        super().__init__()
        self.on_pull, self.saved, self.on_forget = on_pull, saved, on_forget
        self.classes('w-full gap-2').props('flat bordered')
        with self:
            with ui.row().classes('w-full items-start gap-2 no-wrap'):
                self.reference = (
                    ui.input(
                        'Image reference',
                        placeholder='127.0.0.1:5000/team/app:2',
                        validation=reference_problem,
                        on_change=self._show_saved,
                    )
                    .props('clearable aria-label="Image reference"')
                    .classes('grow')
                    .on('keydown.enter', self.pull)
                )
                self.button = ui.button('Pull', icon='download', on_click=self.pull).props('aria-label="Pull"')
            with ui.expansion('Registry credentials (optional)', icon='key').classes('w-full'):
                with ui.row().classes('w-full gap-2'):
                    self.username = ui.input('Username').props('autocomplete=off').classes('w-64')
                    self.password = (
                        ui.input('Password', password=True, password_toggle_button=True)
                        .props('autocomplete=new-password')
                        .classes('w-64')
                    )
                    self.save = ui.checkbox('Save for this registry (encrypted)')
                self.saved_note = ui.label().classes('text-caption')
                self.saved_list = ui.column().classes('gap-1')
        self.refresh_saved()

    async def pull(self) -> None:
        if not self.reference.validate():
            return
        self.button.props('loading')
        try:
            error = await self.on_pull(
                self.reference.value or '', self.username.value or '', self.password.value or '', bool(self.save.value)
            )
        finally:
            self.button.props(remove='loading')
        self.password.value = ''  # typed credentials do not stay in the page
        if error:
            self.reference.error = error

    def refresh_saved(self) -> None:
        self.saved_list.clear()
        with self.saved_list:
            for credential in self.saved():
                with ui.row().classes('items-center gap-2'):
                    ui.label(f'Saved for {credential.registry} by {credential.saved_by}').classes('text-sm')
                    ui.button('Forget', on_click=lambda registry=credential.registry: self._forget(registry)).props(
                        f'flat dense no-caps aria-label="Forget credentials for {credential.registry}"'
                    )
        self._show_saved()

    def _forget(self, registry: str) -> None:
        self.on_forget(registry)
        self.refresh_saved()

    def _show_saved(self) -> None:
        try:
            registry = parse_reference(self.reference.value or '').registry_key
        except InvalidReference:
            self.saved_note.text = ''
            return
        saved = {credential.registry for credential in self.saved()}
        self.saved_note.text = (
            f'Saved credentials for {registry} are used unless you type others.' if registry in saved else ''
        )
