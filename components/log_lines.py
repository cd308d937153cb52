"""LogLines: the element that shows log lines; it only ever receives HTML made by ``log_render`` (escaped text)."""

from __future__ import annotations

from pathlib import Path

from nicegui import background_tasks, ui

CSS = Path(__file__).with_name('log_lines.css').read_text()
PUSH_BYTES = 8 * 1024  # small pushes: NiceGUI keeps the last 1000 messages per tab for resending after a reconnect
# Characters sent that the browser has not shown yet; past this the view stops sending (LogView says so) until the
# browser catches up, so a browser that stops answering cannot make the panel queue output without bound.
WINDOW = 1024 * 1024
ACK_TIMEOUT = 30.0
ASK_TIMEOUT = 5.0


class LogLines(ui.element, component='log_lines.js'):
    """The scrolling line area: the last ``max_lines`` lines, following the end unless the user scrolled up.

    After each batch the browser is asked to answer once it has shown it (or dropped it: the view only keeps
    ``max_lines``); ``keeping_up`` tells whether at most ``WINDOW`` characters are still unanswered.
    """

    def __init__(self, *, max_lines: int, label: str) -> None:
        super().__init__()
        ui.add_css(CSS)
        self._props['max-lines'] = max_lines
        self._props['label'] = label
        self._props['line-css'] = CSS
        self._props['timestamps'] = True
        self.sent = 0  # characters pushed, ever
        self.acknowledged = 0  # of those, how many the browser has shown (answers are cumulative)
        self._asking = False

    @property
    def keeping_up(self) -> bool:
        return self.sent - self.acknowledged <= WINDOW

    def show_timestamps(self, visible: bool) -> None:
        """Timestamps on or off, without sending the lines again."""
        self._props['timestamps'] = visible
        self.update()

    def send(self, lines: list[str], *, replace: bool = False) -> None:
        """Appends rendered lines (or replaces all lines), a few KB per push, then asks for an answer."""
        method = 'replace' if replace else 'append'
        chunk: list[str] = []
        size = 0
        for line in lines:
            chunk.append(line)
            size += len(line)
            if size >= PUSH_BYTES:
                self._push(method, chunk, size)
                method, chunk, size = 'append', [], 0
        if chunk or method == 'replace':
            self._push(method, chunk, size)
        background_tasks.create(self._acknowledge(self.sent, ACK_TIMEOUT), name='log lines answer')

    def ask(self) -> None:
        """Asks a browser that is behind whether it has caught up (earlier answers may have timed out)."""
        if not self.keeping_up and not self._asking:
            self._asking = True
            background_tasks.create(self._acknowledge(self.sent, ASK_TIMEOUT, asking=True), name='log lines ask')

    def _push(self, method: str, chunk: list[str], size: int) -> None:
        self.sent += size
        self.run_method(method, chunk)

    async def _acknowledge(self, end: int, timeout: float, *, asking: bool = False) -> None:
        # the browser runs messages in order and answers once all it received is on screen: this covers every push
        try:
            await self.run_method('acknowledge', timeout=timeout)
            self.acknowledged = max(self.acknowledged, end)
        except TimeoutError:
            pass  # a later answer covers these pushes too
        finally:
            if asking:
                self._asking = False
