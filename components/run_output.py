"""RunOutputView: a sandbox run's stdout and stderr as they come, told apart, as text only.

Output is whatever a script printed: control characters (ANSI escapes among them) are shown as visible symbols
(ESC as ␛), never interpreted, and the text only ever becomes text nodes in the browser. The view keeps the last
``max_chars`` characters (the download has everything the panel kept); the server keeps the same tail, so the page
and the tests can read what is shown.
"""

from __future__ import annotations

import re
from pathlib import Path

from nicegui import ui

from core.sandbox.runs import STDERR, Segment

CSS = Path(__file__).with_name('run_output.css').read_text()
MAX_CHARS = 256 * 1024
_CONTROL = re.compile(r'[\x00-\x08\x0b-\x1f\x7f]')


def visible(text: str) -> str:
    """Control characters (except newline and tab) as their visible symbols: ESC → ␛, NUL → ␀, DEL → ␡; a carriage
    return before a newline is dropped."""
    text = text.replace('\r\n', '\n')
    return _CONTROL.sub(lambda match: '\u2421' if match.group() == '\x7f' else chr(0x2400 + ord(match.group())), text)


class RunOutputView(ui.element, component='run_output.js'):
    def __init__(
        self, *, label: str = 'Output', max_chars: int = MAX_CHARS, segments: list[Segment] | None = None
    ) -> None:
        super().__init__()
        ui.add_css(CSS)
        self.max_chars = max_chars
        self.segments: list[list[str]] = []
        self.chars = 0
        self._props['label'] = label
        self._props['max-chars'] = max_chars
        self._keep(list(segments or []))
        self._props['initial'] = [list(segment) for segment in self.segments]

    @property
    def text(self) -> str:
        """What the view shows (the last ``max_chars`` characters), as plain text."""
        return ''.join(text for _, text in self.segments)

    @property
    def error_text(self) -> str:
        """The stderr part of what the view shows."""
        return ''.join(text for stream, text in self.segments if stream == STDERR)

    def replace(self, segments: list[Segment]) -> None:
        self.segments, self.chars = [], 0
        self.run_method('replace', self._keep(segments))

    def append(self, segments: list[Segment]) -> None:
        if segments:
            self.run_method('append', self._keep(segments))

    def _keep(self, segments: list[Segment]) -> list[list[str]]:
        shown = [[stream, visible(text)] for stream, text in segments if text]
        for stream, text in shown:
            if self.segments and self.segments[-1][0] == stream:
                self.segments[-1][1] += text
            else:
                self.segments.append([stream, text])
            self.chars += len(text)
        while self.chars > self.max_chars and self.segments:
            excess = self.chars - self.max_chars
            first = self.segments[0]
            if len(first[1]) > excess:
                first[1] = first[1][excess:]
                self.chars -= excess
            else:
                self.chars -= len(first[1])
                self.segments.pop(0)
        return shown
