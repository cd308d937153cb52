"""The save step the admin forms of named definitions share (environment templates, sandbox runtimes): read the
fields into the definition, put each sentence of a malformed one on its field (or under the form), refuse one the body
policy refuses, then hand it to the page's ``on_save``, whose sentence (if any) stays under the form."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from core.commands.spec import SpecError

from .image_dialogs import AskingDialog


class DefinitionDialog(AskingDialog):
    """Subclasses set ``fields``, ``error`` and ``on_save`` while building, and give :meth:`mapping` and
    :meth:`build`; ``refused`` opens the sentence about what the body policy refuses."""

    refused: str
    fields: dict[str, Any]
    error: ui.label
    on_save: Callable[[Any], Awaitable[str | None]]

    def mapping(self) -> dict[str, Any]:
        raise NotImplementedError

    def build(self, mapping: dict[str, Any]) -> Any:
        """The definition from the form's mapping; raises SpecError with a sentence per field."""
        raise NotImplementedError

    async def _save(self) -> None:
        for field in self.fields.values():
            field.error = None
        self.error.set_visibility(False)
        try:
            definition = self.build(self.mapping())
        except SpecError as error:
            for key, message in error.errors.items():
                text = f'{message[:1].upper()}{message[1:]}'
                if key in self.fields:
                    self.fields[key].error = text
                else:
                    self._say(f'{text}.')
            return
        refused = definition.refusals()
        if refused:
            self._say(f'{self.refused}: {"; ".join(refused)}.')
            return
        problem = await self.on_save(definition)
        if problem:
            self._say(problem)
            return
        self.submit(True)

    def _say(self, text: str) -> None:
        self.error.text = text
        self.error.set_visibility(True)
