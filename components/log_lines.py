"""LogLines: the element that shows log lines; it only ever receives HTML made by ``log_render`` (escaped text)."""
from __future__ import annotations

from pathlib import Path

from nicegui import ui

CSS = Path(__file__).with_name('log_lines.css').read_text()
PUSH_BYTES = 8 * 1024  # small pushes: NiceGUI keeps the last 1000 messages per tab for resending after a reconnect


class LogLines(ui.element, component='log_lines.js'):
    """The scrolling line area: the last ``max_lines`` lines, following the end unless the user scrolled up."""

    def __init__(self, *, max_lines: int, label: str) -> None:
        super().__init__()
        ui.add_css(CSS)
        self._props['max-lines'] = max_lines
        self._props['label'] = label
        self._props['line-css'] = CSS
        self._props['timestamps'] = True

    def show_timestamps(self, visible: bool) -> None:
        """Timestamps on or off, without sending the lines again."""
        self._props['timestamps'] = visible
        self.update()

    def send(self, lines: list[str], *, replace: bool = False) -> None:
        """Appends rendered lines (or replaces all lines), a few KB per push."""
        method = 'replace' if replace else 'append'
        chunk: list[str] = []
        size = 0
        for line in lines:
            chunk.append(line)
            size += len(line)
            if size >= PUSH_BYTES:
                self.run_method(method, chunk)
                method, chunk, size = 'append', [], 0
        if chunk or method == 'replace':
            self.run_method(method, chunk)
