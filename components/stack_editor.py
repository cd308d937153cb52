"""The stack's files in code editors: compose.yaml (YAML highlighting) and .env (values of secret-looking keys masked
until revealed), and what Validate or Deploy found wrong, each problem on its line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from core.stacks.env_file import has_secret_values, mask_env
from core.stacks.problems import Problem
from core.stacks.store import StackFiles


class StackEditor(ui.column):
    """``stored`` is what the stack holds now (None: a new stack). While .env is masked it cannot be edited, and
    the stored .env is what a deploy sends; ``reveal`` (audited by the command) gives the values."""

    def __init__(
        self, stored: StackFiles | None, *, editable: bool, reveal: Callable[[], Awaitable[str | None]] | None
    ) -> None:
        super().__init__()
        self.classes('w-full gap-2')
        self.stored = stored
        self.reveal_values = reveal
        self.masked = stored is not None and has_secret_values(stored.env)
        with self:
            ui.label('compose.yaml').classes('text-subtitle2')
            self.compose = (
                ui.codemirror(stored.compose if stored else '', language='YAML', indent='  ')
                .classes('w-full h-96 border rounded-borders')
                .props('aria-label="compose.yaml"')
                .mark('compose')
            )
            self.reveal_button: ui.button | None = None
            with ui.row().classes('w-full items-center gap-2'):
                ui.label('.env').classes('text-subtitle2')
                self.mask_note = ui.label('Values of secret-looking keys are masked.').classes('text-caption')
                if reveal is not None and editable:
                    self.reveal_button = ui.button('Reveal values', icon='visibility', on_click=self.reveal).props(
                        'flat dense no-caps aria-label="Reveal values"'
                    )
            env = stored.env if stored else ''
            self.env = (
                ui.codemirror(mask_env(env) if self.masked else env, language='Properties files', indent='  ')
                .classes('w-full h-32 border rounded-borders')
                .props('aria-label=".env"')
                .mark('env')
            )
            self.problems = ui.column().classes('w-full gap-0')
        self.mask_note.set_visibility(self.masked)
        if self.reveal_button is not None:
            self.reveal_button.set_visibility(self.masked)
        if not editable:
            self.compose.disable()
            self.env.disable()
        elif self.masked:
            self.env.disable()

    def files(self) -> StackFiles:
        """What a deploy sends: the editors' text, with the stored .env while its values are masked."""
        env = self.stored.env if self.masked and self.stored is not None else self.env.value
        return StackFiles(compose=self.compose.value or '', env=env or '')

    async def reveal(self) -> None:
        if self.reveal_values is None:
            return
        values = await self.reveal_values()
        if values is None:
            return
        self.masked = False
        self.env.value = values
        self.env.enable()
        self.mask_note.set_visibility(False)
        if self.reveal_button is not None:
            self.reveal_button.set_visibility(False)

    def show_problems(self, problems: list[Problem], refusals: tuple[str, ...] | list[str] = (), ok: str = '') -> None:
        """Each problem as an alert naming its line, and as a tooltip on that line in the editor."""
        self.problems.clear()
        with self.problems:
            for problem in problems:
                ui.label(str(problem)).classes('text-negative text-body2').props('role=alert')
            for refusal in refusals:
                ui.label(f'Refused for you: {refusal}').classes('text-negative text-body2').props('role=alert')
            if ok and not problems and not refusals:
                ui.label(ok).classes('text-positive text-body2').props('role=status')
        self.compose.line_tooltips = {problem.line: problem.message for problem in problems if problem.line}
        lines = [problem.line for problem in problems if problem.line]
        if lines:
            self.compose.reveal_line(lines[0])

    def show_refusal(self, sentence: str) -> None:
        self.problems.clear()
        with self.problems:
            ui.label(sentence).classes('text-negative text-body2').props('role=alert')
