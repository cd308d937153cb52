"""Decoding the daemon's log bodies: HTTP chunks, multiplexed frames (stdout/stderr), timestamps. No I/O here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

STDOUT, STDERR, MARKER = 'stdout', 'stderr', 'marker'
DOCKER_SPLIT = 16 * 1024  # the daemon cuts longer lines into 16 KiB messages; the last piece ends with a newline
LINE_LIMIT = 16 * 1024  # characters of one line that are kept: a binary flood is one endless line
CUT = f' … [line cut at {LINE_LIMIT // 1024} KB]'
_STREAMS = {0: STDOUT, 1: STDOUT, 2: STDERR, 3: STDERR}


class LogLine(NamedTuple):
    """One log line: which container, which stream (stdout/stderr/marker), the daemon's timestamp, the raw text."""

    container: str
    stream: str
    timestamp: str
    text: str


class Dechunker:
    """Undoes HTTP/1.1 chunked transfer encoding incrementally; ``done`` after the last (empty) chunk."""

    def __init__(self) -> None:
        self.done = False
        self._buffer = bytearray()
        self._left = 0
        self._crlf = False

    def feed(self, data: bytes) -> bytes:
        buffer = self._buffer
        buffer += data
        out = bytearray()
        position, size = 0, len(buffer)
        while not self.done:
            if self._left:
                take = min(self._left, size - position)
                out += buffer[position : position + take]
                position += take
                self._left -= take
                if self._left:
                    break
                self._crlf = True
            if self._crlf:
                if size - position < 2:
                    break
                position += 2
                self._crlf = False
            end = buffer.find(b'\r\n', position)
            if end < 0:
                break
            length = int(bytes(buffer[position:end]).split(b';', 1)[0], 16)
            position = end + 2
            self.done = length == 0
            self._left = length
        del buffer[:position]
        return bytes(out)


class Decoder:
    """Bytes of a log body → lines. Multiplexed frames for non-TTY containers, plain text for TTY ones.

    With ``tty=None`` the first byte tells: a frame header starts with a stream number (0-3), a TTY container's
    timestamped text with a digit of the year. A line longer than ``LINE_LIMIT`` characters is delivered cut, with
    ``CUT`` at its end, as soon as it is that long; the rest of it is skipped.
    """

    def __init__(self, container: str, tty: bool | None = None) -> None:
        self.container = container
        self.tty = tty
        self._buffer = bytearray()
        self._partial: dict[str, tuple[str, str]] = {}
        self._skipping: set[str] = set()  # streams whose current line was cut: the rest of it is dropped

    def feed(self, data: bytes) -> list[LogLine]:
        buffer = self._buffer
        buffer += data
        out: list[LogLine] = []
        position, size = 0, len(buffer)
        if self.tty is None and size:
            self.tty = buffer[0] not in _STREAMS
        if self.tty:
            end = buffer.rfind(b'\n') + 1
            if end:
                for message in bytes(buffer[:end]).decode('utf-8', 'replace').split('\n')[:-1]:
                    self._message(STDOUT, message + '\n', out)
                position = end
            if size - position > 8 * LINE_LIMIT:  # no newline in sight (at most 4 bytes a character): cut it now
                self._message(STDOUT, bytes(buffer[position:]).decode('utf-8', 'replace'), out)
                position = size
        else:
            while size - position >= 8:
                end = position + 8 + int.from_bytes(buffer[position + 4 : position + 8], 'big')
                if end > size:
                    break
                self._message(
                    _STREAMS.get(buffer[position], STDOUT), buffer[position + 8 : end].decode('utf-8', 'replace'), out
                )
                position = end
            self._flush_short_partials(out)
        del buffer[:position]
        return out

    def finish(self) -> list[LogLine]:
        """Whatever is left when the body ends (a last line without a newline)."""
        out = [LogLine(self.container, stream, timestamp, text) for stream, (timestamp, text) in self._partial.items()]
        self._partial.clear()
        rest, self._buffer = self._buffer.decode('utf-8', 'replace'), bytearray()
        if rest and self.tty:
            self._message(STDOUT, rest + '\n', out)
        return out

    def _message(self, stream: str, message: str, out: list[LogLine]) -> None:
        complete = message.endswith('\n')
        timestamp, _, text = (message[:-1] if complete else message).partition(' ')
        # a piece shorter than the daemon's split size, without a newline, is where the daemon saw the line end
        more = not complete and (self.tty or not len(text) % DOCKER_SPLIT)
        if stream in self._skipping:
            if not more:
                self._skipping.discard(stream)
            return
        if text.endswith('\r'):
            text = text[:-1]
        partial = self._partial.pop(stream, None)
        if partial is not None:
            timestamp, text = partial[0], partial[1] + text
        if len(text) > LINE_LIMIT:
            out.append(LogLine(self.container, stream, timestamp, text[:LINE_LIMIT] + CUT))
            if more:
                self._skipping.add(stream)
        elif complete:
            out.append(LogLine(self.container, stream, timestamp, text))
        else:
            self._partial[stream] = (timestamp, text)

    def _flush_short_partials(self, out: list[LogLine]) -> None:
        # a piece shorter than the daemon's split size is a line printed without a newline (a prompt): show it now
        for stream, (timestamp, text) in list(self._partial.items()):
            if len(text) % DOCKER_SPLIT:
                del self._partial[stream]
                out.append(LogLine(self.container, stream, timestamp, text))


def advance(lines: list[LogLine], last: str, same: int) -> tuple[str, int]:
    """The last timestamp seen and how many lines carried exactly it, after ``lines``."""
    for line in reversed(lines):
        if line.timestamp != lines[-1].timestamp:
            break
        same = same + 1 if line.timestamp == last else 1
        last = line.timestamp
    return last, same


def skip_seen(lines: list[LogLine], last: str, skip: int) -> tuple[list[LogLine], int]:
    """Drops lines already delivered: those before ``last`` and the first ``skip`` ones at exactly ``last``."""
    kept: list[LogLine] = []
    last_key = timestamp_key(last)
    for index, line in enumerate(lines):
        key = timestamp_key(line.timestamp)
        if key < last_key or (key == last_key and skip > 0):
            skip -= key == last_key
            continue
        kept = lines[index:]
        skip = 0
        break
    return kept, skip


def timestamp_key(timestamp: str) -> str:
    """A string that sorts like the time: the daemon's fixed-width UTC timestamps as they are, others normalized."""
    if len(timestamp) == 30 and timestamp.endswith('Z'):
        return timestamp
    seconds, nanoseconds = split_timestamp(timestamp)
    if seconds is None:
        return timestamp
    return datetime.fromtimestamp(seconds, UTC).strftime('%Y-%m-%dT%H:%M:%S') + f'.{nanoseconds:09d}Z'


def since_parameter(timestamp: str) -> str:
    """The daemon's ``since`` for a log timestamp, to the nanosecond: '1714564800.123456789'."""
    seconds, nanoseconds = split_timestamp(timestamp)
    return f'{seconds}.{nanoseconds:09d}' if seconds is not None else ''


def split_timestamp(timestamp: str) -> tuple[int | None, int]:
    """RFC 3339 with nanoseconds → (epoch seconds, nanoseconds); (None, 0) when it is not a timestamp."""
    head, _, rest = timestamp.partition('.')
    digits = ''
    for character in rest:
        if not '0' <= character <= '9':  # str.isdigit() also says yes to '²', which int() refuses
            break
        digits += character
    zone = rest[len(digits) :] if rest else head[19:]
    try:
        moment = datetime.fromisoformat(head[:19] + (zone.replace('Z', '+00:00') or '+00:00'))
    except ValueError:
        return None, 0
    return int(moment.timestamp()), int((digits + '000000000')[:9])
