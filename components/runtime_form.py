"""RuntimeDialog: every field of a sandbox runtime and its limits, each with the sentence that says what is wrong with
it (a limit beyond its hard ceiling is refused, never clamped), and the body policy's refusals shown before saving."""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from core.sandbox.limits import CEILINGS, DEFAULT_LIMITS, DOCUMENTATION, SIZES, Limits, describe, size_text
from core.sandbox.runtimes import NOBODY, Runtime

from .definition_dialog import DefinitionDialog

OnSave = Callable[[Runtime], Awaitable[str | None]]  # the runtime → None, or the sentence to show
# (key, label, placeholder)
FIELDS = (
    ('name', 'Name', 'python'),
    ('description', 'Description', 'Python 3.11, standard library only'),
    ('image', 'Image', 'python:3.11-slim'),
    ('command', 'Command', 'python3 /sandbox/main.py'),
    ('filename', 'File name', 'main.py'),
    ('user', 'User', f'uid:gid, not root (empty: {NOBODY})'),
)
LIMIT_LABELS = {
    'timeout': 'Time limit (s)',
    'memory': 'Memory',
    'cpus': 'CPUs',
    'pids': 'Processes',
    'output': 'Output',
    'tmpfs': 'Work directory and /tmp',
    'nofile': 'Open files',
    'fsize': 'Largest file',
}


class RuntimeDialog(DefinitionDialog):
    """Answers True once ``on_save`` accepted the runtime; wrong fields say why under themselves."""

    refused = 'Scripts may not run in this'

    def __init__(self, runtime: Runtime | None, on_save: OnSave) -> None:
        super().__init__()
        self.on_save = on_save
        self.fields: dict[str, ui.input] = {}
        title = f'Edit runtime {runtime.name}' if runtime else 'New runtime'
        values = form_values(runtime)
        with self, ui.card().classes('gap-1 w-[44rem] max-w-full').props(f'role=dialog aria-label="{title}"'):
            ui.label(title).classes('text-h6 break-all')
            if runtime is not None and runtime.source == 'file':
                ui.label('From runtimes.yaml: the file wins again at the next start.').classes('text-warning')
            with ui.grid(columns=2).classes('w-full gap-x-3 gap-y-0'):
                for key, label, placeholder in FIELDS:
                    self.fields[key] = self._input(key, label, placeholder, values[key])
            ui.label('Limits (empty: the default; at most the hard ceiling)').classes('text-subtitle2 q-mt-sm')
            with ui.grid(columns=2).classes('w-full gap-x-3 gap-y-0'):
                for key, label in LIMIT_LABELS.items():
                    default, ceiling = getattr(DEFAULT_LIMITS, key), getattr(CEILINGS, key)
                    placeholder = f'default {describe(key, default)}, at most {describe(key, ceiling)}'
                    self.fields[key] = self._input(key, label, placeholder, values[key]).tooltip(DOCUMENTATION[key])
            if runtime is not None:
                self.fields['name'].props('readonly')
            self.error = ui.label().classes('text-negative').props('role=alert')
            self.error.set_visibility(False)
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                ui.button('Save', on_click=self._save).props('aria-label="Save runtime"').mark('save-runtime')

    @staticmethod
    def _input(key: str, label: str, placeholder: str, value: str) -> ui.input:
        return (
            ui.input(label, placeholder=placeholder, value=value)
            .props(f'aria-label="{label}" autocomplete=off dense outlined')
            .classes('w-full')
            .mark(f'runtime-{key}')
        )

    def mapping(self) -> dict[str, Any]:
        values = {key: str(field.value or '').strip() for key, field in self.fields.items()}
        data: dict[str, Any] = {key: values[key] for key, *_ in FIELDS}
        data['limits'] = {key: values[key] for key in LIMIT_LABELS if values[key]}
        return data

    def build(self, mapping: dict[str, Any]) -> Runtime:
        return Runtime.from_mapping(mapping)


def form_values(runtime: Runtime | None) -> dict[str, str]:
    """The form's text for a runtime (empty for a new one; limits left at their default stay empty)."""
    if runtime is None:
        return {key: '' for key, *_ in FIELDS} | dict.fromkeys(LIMIT_LABELS, '')
    values = {
        'name': runtime.name,
        'description': runtime.description,
        'image': runtime.image,
        'command': shlex.join(runtime.command),
        'filename': runtime.filename,
        'user': '' if runtime.user == NOBODY else runtime.user,
    }
    for key in LIMIT_LABELS:
        value = getattr(runtime.limits, key)
        if value == getattr(DEFAULT_LIMITS, key):
            values[key] = ''
        else:
            values[key] = size_text(value) if key in SIZES else f'{value:g}'
    return values


def limits_text(limits: Limits) -> str:
    return limits.summary()
