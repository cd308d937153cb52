"""TerminalOutput: one session's output on its way into the xterm in the browser.

A few messages are in flight at a time; each is acknowledged to the session once xterm has parsed it, and the session
stops reading while its window is full, so a flood cannot outrun the terminal and what the panel holds per terminal
stays bounded. A browser that stops answering (a write not parsed within ``STALL_SECONDS``) pauses the terminal: what
waits to be sent is dropped, nothing is sent but a small probe now and then, and the session, its window full, stops
reading. When the browser answers a probe, the terminal says that output was skipped and the session reads on.
"""

from __future__ import annotations

import json
import sys
from collections import deque
from collections.abc import Callable

from nicegui import background_tasks, ui

# Characters between the container and xterm's parser (read, waiting, sent) before the session stops reading. Waiting
# text costs 1-4 bytes a character. A sent message costs a few times its size (JS code, socket.io packet, WebSocket
# frame) until the browser answers, so only IN_FLIGHT messages are out at a time, each bounded by its size in memory:
# plain text goes 128 K characters a message, random bytes (escaped control characters, a wide string) about 20 K.
# Measured (bench/terminal_flood.py, 8 terminals): ~1 MB of panel memory per terminal printing text, ~3 MB per
# terminal printing random bytes.
WINDOW = 512 * 1024
MESSAGE_CHARS = 128 * 1024  # per message: bounds how long one write holds the event loop and the browser
MESSAGE_BYTES = 160 * 1024  # per message, in memory: 128 K of plain text fits, wider characters are split
IN_FLIGHT = 3  # fewer leave the browser idle between an answer and the next message
STALL_SECONDS = 10.0  # a write not parsed by then: the browser does not keep up (a busy one parses 128 K in ~10 ms)
PROBE_SECONDS = (1.0, 10.0)  # first and longest wait for the browser to answer a probe while paused
SMALLEST_SPLIT = 1024
PAUSED = 'Paused: your browser is not keeping up with the output'
SKIPPED = '\r\n[output skipped]\r\n'


class TerminalOutput:
    """Carries text from one session into one xterm; ``acknowledge`` gives room back to the session's window."""

    def __init__(
        self,
        terminal: ui.xterm,
        *,
        acknowledge: Callable[[int], None],
        on_pause: Callable[[], None],
        on_resume: Callable[[], None],
    ) -> None:
        self.terminal = terminal
        self.acknowledge = acknowledge
        self.on_pause = on_pause
        self.on_resume = on_resume
        self.paused = False
        self.closed = False
        self._pending: deque[str] = deque()
        self._in_flight = 0
        self._unacknowledged = 0  # characters taken from the session and not given back to its window yet
        self._round = 0  # a pause starts a new round: writes of an earlier one no longer count

    def add(self, text: str) -> None:
        """Output of the session, on the event loop."""
        if self.closed:
            self.acknowledge(len(text))
            return
        self._unacknowledged += len(text)
        if self.paused:  # dropped: the window fills and the session stops reading
            return
        self._pending.append(text)
        self._send_more()

    def close(self) -> None:
        """The session is over or replaced: nothing more is sent, no more probes."""
        self.closed = True
        self._round += 1
        self._pending.clear()

    def _send_more(self) -> None:
        while self._pending and self._in_flight < IN_FLIGHT and not self.paused and not self.closed:
            self._in_flight += 1
            code, count = self._next_message()
            background_tasks.create(self._write(code, count, self._round), name='terminal write')

    def _next_message(self) -> tuple[str, int]:
        """The next write and how many characters it carries: up to MESSAGE_CHARS of what waits (small pieces of
        typing together, a big piece split), fewer where they escape to more than MESSAGE_BYTES."""
        text = self._take(MESSAGE_CHARS)
        code = self._write_code(text)
        while (size := sys.getsizeof(code)) > MESSAGE_BYTES and len(text) > SMALLEST_SPLIT:
            keep = max(SMALLEST_SPLIT, len(text) * MESSAGE_BYTES // size * 9 // 10)
            self._pending.appendleft(text[keep:])
            text = text[:keep]
            code = self._write_code(text)
        return code, len(text)

    def _take(self, limit: int) -> str:
        parts, size = [], 0
        while self._pending and size < limit:
            text = self._pending.popleft()
            if size + len(text) > limit:
                text, rest = text[: limit - size], text[limit - size :]
                self._pending.appendleft(rest)
            parts.append(text)
            size += len(text)
        return ''.join(parts)

    async def _write(self, code: str, count: int, round_number: int) -> None:
        try:
            await self.terminal.client.run_javascript(code, timeout=STALL_SECONDS)
        except TimeoutError:
            if round_number == self._round:
                self._pause()
            return
        if round_number != self._round:
            return
        self._forget_delivered(code)
        self._in_flight -= 1
        self._unacknowledged -= count
        self.acknowledge(count)
        self._send_more()

    def _write_code(self, text: str) -> str:
        # non-ASCII as is: '\ufffd' for every invalid byte would make a message of random bytes six times as large
        return f'berthTerminal.write({self.terminal.id}, {json.dumps(text, ensure_ascii=False)})'

    def _forget_delivered(self, code: str) -> None:
        """The browser has run this write, so it has every message up to it: NiceGUI need not keep them for a resend
        after a reconnect (it would until the browser's next ack, 3 s later: seconds of a flood)."""
        outbox = self.terminal.client.outbox
        for message_id, _, (_, _, data) in outbox.message_history:
            if isinstance(data, dict) and data.get('code') is code:
                outbox.prune_history(message_id + 1)
                return

    def _pause(self) -> None:
        self.paused = True
        self._round += 1
        self._in_flight = 0
        self._pending.clear()
        self.on_pause()
        background_tasks.create(self._probe(self._round), name='terminal probe')

    async def _probe(self, round_number: int) -> None:
        """Asks the browser, less and less often, to parse an empty write: it answers once it has caught up."""
        wait, longest = PROBE_SECONDS
        while round_number == self._round:
            try:
                await self.terminal.client.run_javascript(self._write_code(''), timeout=wait)
            except TimeoutError:
                wait = min(longest, wait * 2)
                continue
            if round_number == self._round:
                self._resume()
            return

    def _resume(self) -> None:
        self.paused = False
        self.terminal.client.run_javascript(self._write_code(SKIPPED))
        dropped, self._unacknowledged = self._unacknowledged, 0
        self.acknowledge(dropped)
        self.on_resume()
