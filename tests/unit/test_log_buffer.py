"""LineBuffer: the newest lines, bounded by count and by characters, counting what it drops."""

from __future__ import annotations

from core.streams.log_buffer import LineBuffer
from core.streams.log_decode import STDOUT, LogLine


def lines(*texts: str) -> list[LogLine]:
    return [LogLine('web', STDOUT, '', text) for text in texts]


def test_a_few_long_lines_are_bounded_by_characters_not_only_by_count() -> None:
    buffer = LineBuffer(max_lines=5000, max_chars=100)
    assert buffer.extend(lines('a' * 40, 'b' * 40)) == 0
    # When a third long line comes, the oldest goes: 120 characters would be over the bound
    assert buffer.extend(lines('c' * 40)) == 1
    assert [line.text[0] for line in buffer] == ['b', 'c'] and buffer.chars == 80
    # And one line longer than the whole bound is not kept either
    assert buffer.extend(lines('d' * 101)) == 3 and len(buffer) == 0 and buffer.chars == 0


def test_the_count_bound_still_holds() -> None:
    buffer = LineBuffer(max_lines=3, max_chars=1000)
    assert buffer.extend(lines(*'abcde')) == 2
    assert [line.text for line in buffer] == ['c', 'd', 'e']
    assert [line.text for line in buffer.newest(2)] == ['d', 'e'] and buffer.newest(0) == []
    assert [line.text for line in buffer.take()] == ['c', 'd', 'e'] and not buffer and buffer.chars == 0
