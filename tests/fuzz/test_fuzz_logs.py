"""The log view's inputs under hostile input: the Since box, the filter (RE2), and what a container prints (decoded
from the daemon's frames, rendered as HTML). A time, a pattern or lines; or a sentence; never markup from the text."""

from __future__ import annotations

import math
import re
import struct

from hypothesis import example, given
from hypothesis import strategies as st

from components.log_render import LineFilter, plain_text, render_line
from components.log_text import parse_since
from core.streams.log_decode import LINE_LIMIT, STDERR, STDOUT, Decoder, LogLine, since_parameter, timestamp_key

from .strategies import ANY_CHARACTER, assert_sentence, hostile_text

# Our markup, and nothing else, may appear in a rendered line
OUR_TAGS = re.compile(
    r'<div class="[meo]">|</div>|<time>|</time>|<b class="c\d">|</b>|<span [^<>]*>|</span>|<mark>|</mark>'
)
ESCAPES = st.sampled_from(('\x1b[', '\x1b]', '\x1b', 'm', ';', '38;5;', '48;2;', '9' * 5000, '<script>', '&', '\x07'))
# Lines are decoded from the daemon's bytes with errors='replace': never a lone surrogate
LOG_TEXT = st.one_of(
    hostile_text(), st.lists(st.one_of(ESCAPES, st.text(ANY_CHARACTER, max_size=4)), max_size=12).map(''.join)
).map(lambda text: text.encode('utf-8', 'surrogatepass').decode('utf-8', 'replace'))


@given(hostile_text())
@example('9' * 400 + 'd')  # was: -inf, sent to the daemon as since=-inf
@example('1e5m')
@example('0001-01-01T00:00:00+14:00')
def test_since(text: str) -> None:
    try:
        since = parse_since(text)
    except ValueError as error:
        assert_sentence(str(error))
        return
    assert since is None or (math.isfinite(since) and since >= 0)


@given(hostile_text(), st.booleans(), st.booleans(), LOG_TEXT)
@example('\ud800', False, False, 'x')  # was: UnicodeEncodeError out of re2.compile (a browser can send that)
@example('(a', True, False, 'a')
@example('(?P<x>a)(?P=x)', True, False, 'aa')
@example('a{1000}{1000}', True, False, 'a')
def test_filter(text: str, regex: bool, match_case: bool, line_text: str) -> None:
    line_filter = LineFilter(text=text, regex=regex, match_case=match_case)
    try:
        pattern = line_filter.compile()
    except ValueError as error:
        assert_sentence(str(error))
        return
    line = LogLine('web', STDOUT, '2024-05-01T12:00:00.000000000Z', line_text)
    line_filter.accepts(line, pattern)
    assert_markup_is_ours(render_line(line, pattern, 3))


@given(LOG_TEXT, st.sampled_from((STDOUT, STDERR, 'marker')), hostile_text(6), hostile_text(4))
@example('\x1b[' + '9' * 5000 + 'm', STDOUT, '', 'web')  # an SGR code of 5000 digits
@example('\x1b[38;5;' + '9' * 40 + 'mx', STDOUT, '', 'web')
@example('\x1b[38;2;999;999;999mx', STDOUT, '', 'web')
def test_rendered_line(text: str, stream: str, timestamp: str, container: str) -> None:
    """Whatever a container prints (and whatever its name), the view gets escaped text inside our markup."""
    line = LogLine(container, stream, timestamp, text)
    assert_markup_is_ours(render_line(line, None, 1))
    assert_markup_is_ours(render_line(line, None, None))
    plain_text(line, timestamps=True, tagged=True)


@given(st.lists(st.binary(max_size=64), max_size=8), st.sampled_from((True, False, None)))
def test_decoder_any_bytes(chunks: list[bytes], tty: bool | None) -> None:
    decoder = Decoder('web', tty)
    lines = [line for chunk in chunks for line in decoder.feed(chunk)] + decoder.finish()
    assert all(len(line.text) <= LINE_LIMIT + 40 for line in lines)


@given(st.lists(st.tuples(st.sampled_from((0, 1, 2, 3, 7)), st.binary(max_size=200)), max_size=6))
def test_decoder_frames(frames: list[tuple[int, bytes]]) -> None:
    """Well-formed frames of the daemon carrying any bytes a container wrote, split anywhere."""
    body = b''.join(struct.pack('>BxxxL', stream, len(payload)) + payload for stream, payload in frames)
    decoder = Decoder('web', False)
    lines = [line for index in range(0, len(body), 7) for line in decoder.feed(body[index : index + 7])]
    lines += decoder.finish()
    for line in lines:
        since_parameter(line.timestamp)
        timestamp_key(line.timestamp)


@given(hostile_text())
@example('2024-05-01T12:00:00.²Z')  # was: int('²…') ValueError: str.isdigit() says yes to a superscript two
@example('2024-05-01T12:00:00.123456789Z')
def test_timestamp(text: str) -> None:
    """The daemon's timestamps, or anything in their place: a sortable key and a since parameter, or ''."""
    parameter = since_parameter(text)
    assert parameter == '' or re.fullmatch(r'-?\d+\.\d{9}', parameter)
    timestamp_key(text)


def assert_markup_is_ours(html: str) -> None:
    rest = OUR_TAGS.sub('', html)
    assert '<' not in rest and '>' not in rest, html[:300]
