"""Dialogs of the environments page: a new environment (Template, Name), delete (keep the home volume: yes by default),
hand over (admins). Names from the engine are shown as text (ui.label), never as HTML."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from core.environments.environment import check_name
from core.environments.templates import Template

from .image_dialogs import AskingDialog

OnCreate = Callable[[str, str], Awaitable[str | None]]  # (template, name) → None, or the sentence to show


class NewEnvironmentDialog(AskingDialog):
    """Template and Name; ``on_create`` is called with a name that passes, and its sentence (if any) shown. Answers
    True once the environment was asked for."""

    def __init__(self, templates: list[Template], on_create: OnCreate) -> None:
        super().__init__()
        self.on_create = on_create
        options = {template.name: _title(template) for template in templates}
        with self, ui.card().classes('gap-2 w-[30rem] max-w-full').props('role=dialog aria-label="New environment"'):
            ui.label('New environment').classes('text-h6')
            self.template = (
                ui.select(options, label='Template', value=next(iter(options), None))
                .props('aria-label="Template" outlined')
                .classes('w-full')
            )
            self.name = (
                ui.input('Name', placeholder='work', validation=_name_problem)
                .props('aria-label="Name" autocomplete=off outlined autofocus')
                .classes('w-full')
                .on('keydown.enter', self._create)
            )
            self.error = ui.label().classes('text-negative').props('role=alert')
            self.error.set_visibility(False)
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                self.create = (
                    ui.button('Create', on_click=self._create)
                    .props('aria-label="Create environment"')
                    .mark('create-environment')
                )

    async def _create(self) -> None:
        if not self.template.value:
            self._say('Choose a template first (an admin adds them under Templates).')
            return
        if not self.name.validate():
            return
        self.create.props('loading')
        try:
            error = await self.on_create(str(self.template.value), str(self.name.value or '').strip())
        finally:
            self.create.props(remove='loading')
        if error:
            self._say(error)
            return
        self.submit(True)

    def _say(self, text: str) -> None:
        self.error.text = text
        self.error.set_visibility(True)


class DeleteEnvironmentDialog(AskingDialog):
    """Asks before deleting an environment; the home volume (and its other volumes) is kept unless unticked. Answers
    {'keep_home': bool} or None."""

    def __init__(self, name: str) -> None:
        super().__init__()
        with self, ui.card().classes('gap-2 w-[30rem] max-w-full').props('role=dialog aria-label="Delete environment"'):
            ui.label(f'Delete the environment {name}?').classes('text-h6 break-all')
            self.keep = ui.checkbox('Keep the home volume', value=True)
            ui.label(
                "A kept home (with the environment's other volumes) comes back when you create an environment of the "
                'same name; unticked, its files are gone for good.'
            ).classes('text-caption')
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                ui.button(
                    'Delete', color='negative', on_click=lambda: self.submit({'keep_home': self.keep.value})
                ).props('aria-label="Confirm delete"').mark('confirm-delete')


class HandOverDialog(AskingDialog):
    """Asks whom to hand an environment to (admins): answers the chosen username, or None."""

    def __init__(self, name: str, usernames: list[str]) -> None:
        super().__init__()
        with self, ui.card().classes('gap-2 w-[30rem] max-w-full').props('role=dialog aria-label="Hand over"'):
            ui.label(f'Hand {name} over to').classes('text-h6 break-all')
            self.person = ui.select(usernames, label='Person', with_input=True).props('aria-label="Person" outlined')
            ui.label('It is made again from its template for them, with its volumes copied.').classes('text-caption')
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                ui.button('Hand over', on_click=lambda: self.submit(self.person.value or None)).props(
                    'aria-label="Confirm hand over"'
                ).mark('confirm-hand-over')


def _title(template: Template) -> str:
    return f'{template.name} — {template.description}' if template.description else template.name


def _name_problem(text: str) -> str | None:
    try:
        check_name(str(text or ''))
    except ValueError as error:
        return f'{str(error)[:1].upper()}{str(error)[1:]}'
    return None
