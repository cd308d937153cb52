"""Log lines become escaped HTML: container output is text, never markup; ANSI colours and filter matches are ours."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser

import pytest

from components.log_render import LineFilter, ansi_segments, plain_text, render_line, render_text, strip_ansi
from components.log_text import parse_since
from core.streams.log_decode import MARKER, STDERR, STDOUT, LogLine

TIMESTAMP = '2026-05-01T12:00:00.123456789Z'


def line(text: str, stream: str = STDOUT, container: str = 'web') -> LogLine:
    return LogLine(container, stream, TIMESTAMP, text)


class Tags(HTMLParser):
    """Every start tag and attribute the browser would create from the HTML."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text = ''
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text += data


@pytest.mark.parametrize(
    'text',
    [
        '<script>alert(1)</script>',
        '<img src=x onerror=alert(1)>',
        '"><svg onload=alert(1)>',
        '\x1b[31m<img src=x onerror=alert(1)>\x1b[0m',
        '<b onmouseover=alert(1)>bold</b> & &amp; &lt;',
    ],
)
@pytest.mark.parametrize('pattern', [None, re.compile('img|script|b', re.IGNORECASE)])
def test_container_output_is_never_markup(text: str, pattern: re.Pattern[str] | None) -> None:
    html = render_line(line(text, container='<i>evil</i>'), pattern, tag=3)
    parsed = Tags(html)
    assert {tag for tag, _ in parsed.tags} <= {'div', 'time', 'b', 'span', 'mark'}
    assert all(name in ('class', 'style') for _, attributes in parsed.tags for name, _ in attributes)
    assert parsed.text.endswith(strip_ansi(text))  # what the user reads is exactly the line's text
    assert '<i>evil</i>' in parsed.text and '<script' not in html and '<img' not in html


def test_markers_are_escaped_too() -> None:
    html = render_line(LogLine('<x>', MARKER, '', '— container <b>stopped</b> —'))
    assert html == '<div class="m"><time></time>— container &lt;b&gt;stopped&lt;/b&gt; —</div>'


def test_stdout_stderr_and_timestamp_are_told_apart() -> None:
    assert render_line(line('ok')) == '<div class="o"><time>2026-05-01 12:00:00.123</time>ok</div>'
    assert render_line(line('bad', STDERR)).startswith('<div class="e">')
    assert '<b class="c1">web</b>' in render_line(line('tagged'), tag=9)


def test_ansi_colours_become_classes() -> None:
    assert render_text('\x1b[1;31mred\x1b[0m plain') == '<span class="a-b a-f1">red</span> plain'
    assert render_text('\x1b[92mbright\x1b[39m') == '<span class="a-f10">bright</span>'
    assert (
        render_text('\x1b[38;5;196mx\x1b[48;2;1;2;3my')
        == '<span style="color:#ff0000">x</span><span style="color:#ff0000;background-color:#010203">y</span>'
    )


def test_other_escapes_and_control_characters_are_dropped() -> None:
    assert render_text('\x1b[2K\x1b[?25lprogress\x1b]0;title\x07 done\x08\x07') == 'progress done'
    assert strip_ansi('\x1b[31mred\x1b[0m\ttab') == 'red\ttab'


def test_colour_state_does_not_leak_into_the_next_line() -> None:
    assert render_text('\x1b[31mno reset') == '<span class="a-f1">no reset</span>'
    assert render_text('next line') == 'next line'


def test_segments_keep_the_text() -> None:
    assert ansi_segments('a\x1b[1mb\x1b[22mc') == [('a', ''), ('b', 'class="a-b"'), ('c', '')]


def test_plain_filter_is_literal_and_case_insensitive_by_default() -> None:
    pattern = LineFilter(text='a.b').compile()
    assert pattern is not None
    assert LineFilter(text='a.b').accepts(line('xA.By'), pattern)
    assert not LineFilter(text='a.b').accepts(line('axb'), pattern)
    assert render_text('xA.By a.b', pattern) == 'x<mark>A.B</mark>y <mark>a.b</mark>'


def test_regex_filter_and_match_case() -> None:
    search = LineFilter(text=r'err(or)?\s\d+', regex=True, match_case=True)
    pattern = search.compile()
    assert pattern is not None
    assert search.accepts(line('an error 42 here'), pattern)
    assert not search.accepts(line('an ERROR 42 here'), pattern)


def test_highlight_spans_colour_boundaries_and_escapes() -> None:
    pattern = LineFilter(text='d<e').compile()
    assert render_text('re\x1b[31md<e\x1b[0mnd', pattern) == 're<span class="a-f1"><mark>d&lt;e</mark></span>nd'
    pattern = LineFilter(text='ab').compile()
    assert render_text('a\x1b[1mb', pattern) == '<mark>a</mark><span class="a-b"><mark>b</mark></span>'


def test_the_filter_reads_text_not_colour_codes() -> None:
    search = LineFilter(text='31m')
    assert not search.accepts(line('\x1b[31mred\x1b[0m'), search.compile())


def test_invalid_regex_is_a_sentence() -> None:
    with pytest.raises(ValueError, match=r'^"a\(b" is not a valid regular expression: missing \)\.$'):
        LineFilter(text='a(b', regex=True).compile()
    with pytest.raises(ValueError, match=r'^"x\\Z" is not a valid regular expression: invalid escape sequence: \\Z\.$'):
        LineFilter(text='x\\Z', regex=True).compile()
    assert LineFilter(text='a(b').compile() is not None  # without Regex, brackets are just characters


@pytest.mark.parametrize(
    ('text', 'sentence'),
    [
        (r'(a)\1', r'"(a)\1" uses a backreference, which the log filter does not support.'),
        ('(?P<word>a)(?P=word)', '"(?P<word>a)(?P=word)" uses a backreference, which the log filter does not support.'),
        ('error(?=:)', '"error(?=:)" uses a lookahead, which the log filter does not support.'),
        ('(?<!no )error', '"(?<!no )error" uses a negative lookbehind, which the log filter does not support.'),
        (r'\pL{20}', r'"\pL{20}" is too complex for the log filter: use fewer or smaller repetitions.'),
        ('x' * 501, 'The filter is 501 characters long; it can be at most 500.'),
    ],
)
def test_what_the_linear_engine_cannot_do_is_refused_with_a_sentence(text: str, sentence: str) -> None:
    with pytest.raises(ValueError) as refusal:
        LineFilter(text=text, regex=True).compile()
    assert str(refusal.value) == sentence


def test_a_catastrophic_pattern_runs_in_linear_time() -> None:
    # Python's re backtracks exponentially here: one 30-character line would take longer than this test run
    search = LineFilter(text='(.*.*)*!', regex=True)
    pattern = search.compile()
    lines = [line(f'{index:05d} ordinary line, no bang') for index in range(5000)] + [line('the end!')]
    assert [found.text for found in lines if search.accepts(found, pattern)] == ['the end!']
    assert render_text('the end!', pattern) == '<mark>the end!</mark>'


def test_stream_filter_keeps_markers() -> None:
    only_errors = LineFilter(stream=STDERR)
    assert only_errors.accepts(line('x', STDERR), None)
    assert not only_errors.accepts(line('x', STDOUT), None)
    assert only_errors.accepts(LogLine('web', MARKER, '', '— container stopped —'), None)


def test_plain_text_for_downloads() -> None:
    assert plain_text(line('\x1b[31mred\x1b[0m'), timestamps=True, tagged=False) == f'{TIMESTAMP} red'
    assert plain_text(line('oops', STDERR), timestamps=False, tagged=True) == 'web stderr oops'


def test_since_accepts_durations_and_times() -> None:
    assert parse_since('') is None
    assert abs(parse_since('10m') - (time.time() - 600)) < 5  # type: ignore[operator]
    assert parse_since('2024-05-01 12:00') == 1714564800.0
    assert parse_since('2024-05-01T12:00:00+02:00') == 1714557600.0
    with pytest.raises(ValueError, match='"yesterday" is not a time: use 10m, 2h, 1d or 2024-05-01 12:00'):
        parse_since('yesterday')
