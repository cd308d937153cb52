"""Decoding the daemon's log body: HTTP chunks, multiplexed stdout/stderr frames, partial lines, timestamps."""

from __future__ import annotations

import struct

from core.streams.log_decode import (
    CUT,
    DOCKER_SPLIT,
    LINE_LIMIT,
    STDERR,
    STDOUT,
    Dechunker,
    Decoder,
    LogLine,
    advance,
    since_parameter,
    skip_seen,
    timestamp_key,
)

T1 = '2026-05-01T12:00:00.000000001Z'
T2 = '2026-05-01T12:00:00.000000002Z'
T3 = '2026-05-01T12:00:01.500000000Z'


def frame(stream: int, payload: str) -> bytes:
    data = payload.encode()
    return struct.pack('>BxxxL', stream, len(data)) + data


def chunked(*parts: bytes) -> bytes:
    return b''.join(f'{len(part):x}\r\n'.encode() + part + b'\r\n' for part in parts) + b'0\r\n\r\n'


def test_dechunker_reassembles_a_body_split_anywhere() -> None:
    body = [b'hello ', b'multiplexed ', b'world' * 100]
    wire = chunked(*body)
    for step in (1, 3, 7, len(wire)):
        dechunker = Dechunker()
        out = b''.join(dechunker.feed(wire[index : index + step]) for index in range(0, len(wire), step))
        assert out == b''.join(body) and dechunker.done


def test_frames_tell_stdout_from_stderr_even_when_split_across_reads() -> None:
    wire = frame(1, f'{T1} out\n') + frame(2, f'{T2} err <b>\n') + frame(1, f'{T3} crlf\r\n')
    decoder = Decoder('web', tty=False)
    lines = [line for index in range(len(wire)) for line in decoder.feed(wire[index : index + 1])]
    assert lines == [
        LogLine('web', STDOUT, T1, 'out'),
        LogLine('web', STDERR, T2, 'err <b>'),
        LogLine('web', STDOUT, T3, 'crlf'),
    ]


def test_long_lines_cut_by_the_daemon_are_joined() -> None:
    first = 'x' * 16384
    decoder = Decoder('web', tty=False)
    assert decoder.feed(frame(1, f'{T1} {first}')) == []
    assert decoder.feed(frame(1, f'{T2} \n')) == [LogLine('web', STDOUT, T1, first)]


def test_a_line_longer_than_the_limit_is_cut_visibly_and_the_rest_skipped() -> None:
    # Given a container printing one 40 KB line on stdout (three daemon messages) while stderr goes on
    decoder = Decoder('web', tty=False)
    piece = 'y' * DOCKER_SPLIT
    lines = decoder.feed(frame(1, f'{T1} {piece}') + frame(1, f'{T1} {piece}') + frame(2, f'{T2} err\n'))
    # Then the cut line comes at once, at LINE_LIMIT characters, saying so; the other stream is untouched
    assert lines == [LogLine('web', STDOUT, T1, 'y' * LINE_LIMIT + CUT), LogLine('web', STDERR, T2, 'err')]
    assert CUT == ' … [line cut at 16 KB]'
    # And the rest of that line is skipped; the next line is whole again
    assert decoder.feed(frame(1, f'{T1} {"z" * 7000}\n') + frame(1, f'{T3} next\n')) == [
        LogLine('web', STDOUT, T3, 'next')
    ]


def test_an_endless_tty_line_is_cut_without_waiting_for_a_newline() -> None:
    decoder = Decoder('web', tty=True)
    lines = decoder.feed(f'{T1} '.encode() + b'\x00\x01binary' * 20_000)
    assert len(lines) == 1 and lines[0].text.endswith(CUT) and len(lines[0].text) == LINE_LIMIT + len(CUT)
    assert decoder.feed(b'more binary' * 20_000) == []  # skipped, and not buffered either
    assert decoder.feed(f'\n{T2} next\n'.encode()) == [LogLine('web', STDOUT, T2, 'next')]


def test_a_last_line_without_newline_is_not_lost() -> None:
    decoder = Decoder('web', tty=False)
    assert decoder.feed(frame(1, f'{T1} prompt> ')) == [LogLine('web', STDOUT, T1, 'prompt> ')]
    tty = Decoder('web', tty=True)
    assert tty.feed(f'{T1} one\r\n{T2} tw'.encode()) == [LogLine('web', STDOUT, T1, 'one')]
    assert tty.finish() == [LogLine('web', STDOUT, T2, 'tw')]


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    decoder = Decoder('web', tty=False)
    payload = f'{T1} '.encode() + b'\xff\xfe ok\n'
    data = struct.pack('>BxxxL', 1, len(payload)) + payload
    assert decoder.feed(data) == [LogLine('web', STDOUT, T1, '\ufffd\ufffd ok')]


def test_following_resumes_after_the_last_line_without_repeats() -> None:
    seen = [LogLine('web', STDOUT, T1, 'a'), LogLine('web', STDOUT, T2, 'b'), LogLine('web', STDOUT, T2, 'c')]
    last, same = advance(seen, '', 0)
    assert (last, same) == (T2, 2)
    again = [*seen[1:], LogLine('web', STDOUT, T2, 'd'), LogLine('web', STDOUT, T3, 'e')]
    kept, left = skip_seen(again, last, same)
    assert [line.text for line in kept] == ['d', 'e'] and left == 0
    assert advance(kept, last, same) == (T3, 1)


def test_timestamps_sort_and_convert_to_the_daemons_since() -> None:
    assert timestamp_key(T1) == T1
    assert timestamp_key('2026-05-01T14:00:01.5+02:00') == T3
    assert since_parameter(T3) == '1777636801.500000000'
    assert since_parameter('not a time') == ''
