"""Log lines → escaped HTML for the log view: ANSI SGR colours as classes, filter matches as <mark>, never raw text.

A log line is text from a container: every character of it goes through ``html.escape`` before it is placed in
markup; the only markup is ours (fixed class names, colours computed from integers).

The filter runs on RE2, which matches in time linear in the text: a pattern that makes a backtracking engine run for
minutes (``(.*.*)*!``) costs what any other does. RE2 has no backreferences or lookarounds; those are refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import escape
from typing import Protocol

import re2

from core.streams.log_decode import MARKER, STDERR, LogLine

CONTAINER_COLOURS = 8
_ESCAPE = re.compile(r'\x1b\[([0-9;:?]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?')
_CONTROL = re.compile(r'[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f]')
_SPECIAL = re.compile(r'[&<>\x00-\x08\x0b-\x1f\x7f]')  # what escaping, ANSI or control-character removal would change
_FOREGROUND = {**{30 + n: n for n in range(8)}, **{90 + n: 8 + n for n in range(8)}}
_BACKGROUND = {**{40 + n: n for n in range(8)}, **{100 + n: 8 + n for n in range(8)}}
_FLAGS = {1: 'b', 2: 'd', 3: 'i', 4: 'u', 9: 's'}
_UNSET = {22: 'bd', 23: 'i', 24: 'u', 29: 's'}
MAX_PATTERN = 500  # characters of filter text
MAX_MEMORY = 8 * 1024 * 1024  # RE2's budget for one compiled filter (program and matching caches)
MAX_PROGRAM = 5000  # RE2 instructions: bounds the cost per character when RE2 cannot use its fast DFA
_BACKREFERENCE = re.compile(r'invalid escape sequence: \\[1-9k]')
_LOOKAROUND = {
    '(?=': 'a lookahead',
    '(?!': 'a negative lookahead',
    '(?<=': 'a lookbehind',
    '(?<!': 'a negative lookbehind',
}


class Match(Protocol):
    def span(self) -> tuple[int, int]: ...


class Pattern(Protocol):
    """A compiled filter: an RE2 expression (or, in tests, a ``re.Pattern``)."""

    def search(self, text: str) -> Match | None: ...

    def finditer(self, text: str) -> Iterator[Match]: ...


@dataclass(kw_only=True, slots=True, frozen=True)
class LineFilter:
    """What the user typed in the filter box, and which streams to show."""

    text: str = ''
    regex: bool = False
    match_case: bool = False
    stream: str = 'all'  # 'all', 'stdout' or 'stderr'

    def compile(self) -> Pattern | None:
        """The pattern to search for (None: no text); raises ValueError with a sentence for a bad expression."""
        if not self.text:
            return None
        if len(self.text) > MAX_PATTERN:
            raise ValueError(f'The filter is {len(self.text):,} characters long; it can be at most {MAX_PATTERN}.')
        try:
            self.text.encode('utf-8')
        except UnicodeEncodeError:  # a lone surrogate: a browser can send one, RE2 takes UTF-8 only
            raise ValueError('The filter holds a character that is not text (a lone surrogate).') from None
        options = re2.Options()
        options.case_sensitive = self.match_case
        options.literal = not self.regex
        options.max_mem = MAX_MEMORY
        options.log_errors = False
        try:
            compiled = re2.compile(self.text, options)
        except re2.error as error:
            raise ValueError(self._refusal(error)) from None
        program = getattr(getattr(compiled, '_regexp', None), 'ProgramSize', None)
        if program is not None and program() > MAX_PROGRAM:
            raise ValueError(f'"{self.text}" is too complex for the log filter: use fewer or smaller repetitions.')
        return compiled

    def _refusal(self, error: Exception) -> str:
        message = error.args[0] if error.args else str(error)
        message = message.decode('utf-8', 'replace') if isinstance(message, bytes) else str(message)
        quoted = f'"{self.text}"'
        if _BACKREFERENCE.search(message) or (message.endswith('(?P') and '(?P=' in self.text):
            return f'{quoted} uses a backreference, which the log filter does not support.'
        for opener, what in _LOOKAROUND.items():
            if message.endswith(f'invalid perl operator: {opener}'):
                return f'{quoted} uses {what}, which the log filter does not support.'
        if 'pattern too large' in message:
            return f'{quoted} is too complex for the log filter: use fewer or smaller repetitions.'
        problem, _, where = message.partition(': ')
        detail = f'{problem}: {where}' if where and where != self.text else problem  # RE2 may quote it all
        return f'{quoted} is not a valid regular expression: {detail}.'

    def accepts(self, line: LogLine, pattern: Pattern | None) -> bool:
        """Markers (container stopped, restarted…) always pass: they explain gaps."""
        if line.stream == MARKER:
            return True
        if self.stream not in ('all', line.stream):
            return False
        if pattern is None:
            return True
        return pattern.search(strip_ansi(line.text) if '\x1b' in line.text else line.text) is not None


def render_lines(
    lines: list[LogLine], line_filter: LineFilter, pattern: Pattern | None, tag: Callable[[LogLine], int | None]
) -> list[str]:
    """The lines ``line_filter`` accepts, rendered; pure, so it may run in a worker thread."""
    return [render_line(line, pattern, tag(line)) for line in lines if line_filter.accepts(line, pattern)]


def render_line(line: LogLine, pattern: Pattern | None = None, tag: int | None = None) -> str:
    """One line as a ``<div>``: stream class, timestamp, container tag (merged views), escaped text."""
    container, stream, timestamp, text = line
    kind = 'm' if stream == MARKER else 'e' if stream == STDERR else 'o'
    if timestamp:
        timestamp = f'{timestamp[:10]} {timestamp[11:23]}'
        timestamp = escape(timestamp, quote=False) if _SPECIAL.search(timestamp) else timestamp
    # most lines need no escaping at all: one regex search instead of escape's three replaces (hot path)
    if kind == 'm':
        body = escape(text, quote=False)
    elif pattern is None and not _SPECIAL.search(text):
        body = text
    else:
        body = render_text(text, pattern)
    if tag is None:
        return f'<div class="{kind}"><time>{timestamp}</time>{body}</div>'
    return (
        f'<div class="{kind}"><time>{timestamp}</time><b class="c{tag % CONTAINER_COLOURS}">'
        f'{escape(container, quote=False)}</b>{body}</div>'
    )


def render_text(text: str, pattern: Pattern | None = None) -> str:
    """Escaped HTML for a line's text, with ANSI colours as spans and ``pattern`` matches as ``<mark>``."""
    if '\x1b' not in text and pattern is None:
        return escape(_CONTROL.sub('', text) if _CONTROL.search(text) else text)
    segments = ansi_segments(text) if '\x1b' in text else [(_CONTROL.sub('', text), '')]
    plain = ''.join(segment for segment, _ in segments)
    spans = (
        [span for span in (match.span() for match in pattern.finditer(plain)) if span[1] > span[0]] if pattern else []
    )
    out: list[str] = []
    offset = 0
    for segment, attributes in segments:
        inner = _marked(segment, offset, spans)
        out.append(f'<span {attributes}>{inner}</span>' if attributes else inner)
        offset += len(segment)
    return ''.join(out)


def plain_text(line: LogLine, *, timestamps: bool, tagged: bool) -> str:
    """A line as it goes into a download of what is shown: no colours, optional timestamp and container."""
    parts = [line.timestamp] if timestamps and line.timestamp else []
    if tagged:
        parts.append(line.container)
    if line.stream == STDERR:
        parts.append('stderr')
    parts.append(strip_ansi(line.text))
    return ' '.join(parts)


def plain_lines(
    lines: list[LogLine], *, line_filter: LineFilter, pattern: Pattern | None, timestamps: bool, tagged: bool
) -> list[str]:
    """The lines ``line_filter`` accepts as plain text; pure, so it may run in a worker thread."""
    return [
        plain_text(line, timestamps=timestamps, tagged=tagged) for line in lines if line_filter.accepts(line, pattern)
    ]


def strip_ansi(text: str) -> str:
    return _CONTROL.sub('', _ESCAPE.sub('', text))


def ansi_segments(text: str) -> list[tuple[str, str]]:
    """Splits ``text`` at SGR codes: ``(plain text, attributes for its span)``; other escapes are dropped."""
    segments: list[tuple[str, str]] = []
    style = _Style()
    position = 0
    for match in _ESCAPE.finditer(text):
        if match.start() > position:
            segments.append((_CONTROL.sub('', text[position : match.start()]), style.attributes()))
        position = match.end()
        if match.group(2) == 'm':
            style.apply(match.group(1))
    if position < len(text):
        segments.append((_CONTROL.sub('', text[position:]), style.attributes()))
    return [segment for segment in segments if segment[0]]


def _marked(segment: str, offset: int, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return escape(segment)
    out: list[str] = []
    cursor, end = offset, offset + len(segment)
    for match_start, match_stop in spans:
        if match_stop <= cursor or match_start >= end:
            continue
        start, stop = max(match_start, cursor), min(match_stop, end)
        out.append(escape(segment[cursor - offset : start - offset]))
        out.append(f'<mark>{escape(segment[start - offset : stop - offset])}</mark>')
        cursor = stop
    out.append(escape(segment[cursor - offset :]))
    return ''.join(out)


class _Style:
    """The SGR state within one line (each line starts plain, so a missing reset cannot colour the rest)."""

    def __init__(self) -> None:
        self.flags: set[str] = set()
        self.foreground: int | str | None = None
        self.background: int | str | None = None

    def apply(self, parameters: str) -> None:
        # a code of more digits than any SGR code has is one nobody knows (int() would refuse thousands of them)
        codes = [_code(code) for code in re.split('[;:]', parameters)] if parameters else [0]
        index = 0
        while index < len(codes):
            code = codes[index]
            index += 1
            if code == 0:
                self.flags.clear()
                self.foreground = self.background = None
            elif code in _FLAGS:
                self.flags.add(_FLAGS[code])
            elif code in _UNSET:
                self.flags.difference_update(_UNSET[code])
            elif code in _FOREGROUND:
                self.foreground = _FOREGROUND[code]
            elif code in _BACKGROUND:
                self.background = _BACKGROUND[code]
            elif code == 39:
                self.foreground = None
            elif code == 49:
                self.background = None
            elif code in (38, 48):
                colour, index = _extended_colour(codes, index)
                if code == 38:
                    self.foreground = colour
                else:
                    self.background = colour

    def attributes(self) -> str:
        classes = [f'a-{flag}' for flag in sorted(self.flags)]
        styles = []
        for prefix, value, css in (('f', self.foreground, 'color'), ('g', self.background, 'background-color')):
            if isinstance(value, int):
                classes.append(f'a-{prefix}{value}')
            elif isinstance(value, str):
                styles.append(f'{css}:{value}')
        attributes = f'class="{" ".join(classes)}"' if classes else ''
        if styles:
            attributes += f'{" " if attributes else ""}style="{";".join(styles)}"'
        return attributes


def _code(text: str) -> int:
    if not text.isdigit():
        return 0
    return int(text) if len(text) <= 9 else -1


def _extended_colour(codes: list[int], index: int) -> tuple[int | str | None, int]:
    """``38;5;n`` (256 colours) or ``38;2;r;g;b`` (true colour) → a palette index or '#rrggbb' built from integers."""
    if index < len(codes) and codes[index] == 5 and index + 1 < len(codes):
        number = codes[index + 1] % 256
        if number < 16:
            return number, index + 2
        if number < 232:
            levels = (0, 95, 135, 175, 215, 255)
            number -= 16
            red, green, blue = levels[number // 36], levels[number // 6 % 6], levels[number % 6]
        else:
            red = green = blue = 8 + 10 * (number - 232)
        return f'#{red:02x}{green:02x}{blue:02x}', index + 2
    if index < len(codes) and codes[index] == 2 and index + 3 < len(codes):
        red, green, blue = (value % 256 for value in codes[index + 1 : index + 4])
        return f'#{red:02x}{green:02x}{blue:02x}', index + 4
    return None, len(codes)
