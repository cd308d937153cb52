"""TemplateDialog: every field of an environment template, each with the sentence that says what is wrong with it,
and the body policy's refusals (what an operator could not create) shown before anything is saved."""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from core.environments.templates import Template

from .definition_dialog import DefinitionDialog

OnSave = Callable[[Template], Awaitable[str | None]]  # the template → None, or the sentence to show
# (key, label, placeholder, multi-line)
FIELDS = (
    ('name', 'Name', 'python', False),
    ('description', 'Description', 'Python 3.12 with a persistent home', False),
    ('image', 'Image', 'python:3.12', False),
    ('home', 'Home', '/home/dev', False),
    ('cpus', 'CPUs', '2', False),
    ('memory', 'Memory', '2g', False),
    ('idle_minutes', 'Idle minutes', '60 (0: never stopped)', False),
    ('command', 'Command', 'empty: keep the container running', False),
    ('user', 'User', "empty: the image's", False),
    ('workdir', 'Working directory', 'empty: the home', False),
    ('shell', 'Shell', 'empty: bash if present, else sh', False),
    ('groups', 'Groups', 'empty: everyone who may create environments; else comma-separated SSO groups', False),
    ('environment', 'Environment', 'KEY=value, one per line', True),
    ('volumes', 'Extra volumes', 'cache:/home/dev/.cache, one per line', True),
    ('ports', 'Ports', '8888 or 8080:80/tcp, one per line', True),
)


class TemplateDialog(DefinitionDialog):
    """Answers True once ``on_save`` accepted the template; wrong fields say why under themselves."""

    refused = 'Environments may not be made from this'

    def __init__(self, template: Template | None, on_save: OnSave) -> None:
        super().__init__()
        self.on_save = on_save
        self.fields: dict[str, ui.input | ui.textarea] = {}
        title = f'Edit template {template.name}' if template else 'New template'
        values = form_values(template)
        with self, ui.card().classes('gap-1 w-[40rem] max-w-full').props(f'role=dialog aria-label="{title}"'):
            ui.label(title).classes('text-h6 break-all')
            if template is not None and template.source == 'file':
                ui.label('From templates.yaml: the file wins again at the next start.').classes('text-warning')
            with ui.grid(columns=2).classes('w-full gap-x-3 gap-y-0'):
                for key, label, placeholder, multiline in FIELDS:
                    element = ui.textarea if multiline else ui.input
                    self.fields[key] = (
                        element(label, placeholder=placeholder, value=values[key])
                        .props(
                            f'aria-label="{label}" autocomplete=off dense outlined' + (' rows=2' if multiline else '')
                        )
                        .classes('w-full' + (' col-span-2' if multiline or key == 'groups' else ''))
                    )
            if template is not None:
                self.fields['name'].props('readonly')
            self.public_ports = ui.checkbox(
                'Publish ports on every interface (else 127.0.0.1 only)', value=values['public_ports']
            )
            self.error = ui.label().classes('text-negative').props('role=alert')
            self.error.set_visibility(False)
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                ui.button('Save', on_click=self._save).props('aria-label="Save template"').mark('save-template')

    def mapping(self) -> dict[str, Any]:
        data: dict[str, Any] = {key: str(field.value or '').strip() for key, field in self.fields.items()}
        data['public_ports'] = bool(self.public_ports.value)
        return data

    def build(self, mapping: dict[str, Any]) -> Template:
        return Template.from_mapping(mapping)


def form_values(template: Template | None) -> dict[str, Any]:
    """The form's text for a template (empty for a new one)."""
    if template is None:
        return {key: '' for key, *_ in FIELDS} | {'public_ports': False}
    return {
        'name': template.name,
        'description': template.description,
        'image': template.image,
        'home': template.home,
        'cpus': f'{template.cpus:g}',
        'memory': memory_text(template.memory),
        'idle_minutes': str(template.idle_minutes),
        'command': shlex.join(template.command),
        'user': template.user,
        'workdir': template.workdir,
        'shell': template.shell,
        'groups': ', '.join(template.groups),
        'environment': '\n'.join(f'{key}={value}' for key, value in template.environment.items()),
        'volumes': '\n'.join(template.volumes),
        'ports': '\n'.join(template.ports),
        'public_ports': template.public_ports,
    }


def memory_text(size: int) -> str:
    for unit, factor in (('g', 2**30), ('m', 2**20), ('k', 2**10)):
        if size and size % factor == 0:
            return f'{size // factor}{unit}'
    return str(size)
