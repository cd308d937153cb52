"""A terminal's output shaping, with fakes: characters split across reads, binary output, and coalescing by time."""

from __future__ import annotations

import random

from core.streams.exec_output import Coalescer, OutputDecoder

TEXT = 'ü€😀 plain ascii, 中文, \x1b[31mred\x1b[0m\r\n' * 50


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_characters_split_at_every_byte_boundary_come_out_whole() -> None:
    data = TEXT.encode()
    for cut in range(1, 40):
        decoder = OutputDecoder()
        pieces = [decoder.decode(data[start : start + cut]) for start in range(0, len(data), cut)]
        assert ''.join(pieces) + decoder.decode(b'', final=True) == TEXT


def test_random_read_sizes_never_garble() -> None:
    data = TEXT.encode()
    generator = random.Random(4)
    for _ in range(50):
        decoder, position, pieces = OutputDecoder(), 0, []
        while position < len(data):
            size = generator.randint(1, 17)
            pieces.append(decoder.decode(data[position : position + size]))
            position += size
        assert ''.join(pieces) == TEXT
        assert '\ufffd' not in ''.join(pieces)


def test_a_half_character_waits_for_its_other_half() -> None:
    decoder = OutputDecoder()
    euro = '€'.encode()
    assert decoder.decode(b'a' + euro[:1]) == 'a'
    assert decoder.decode(euro[1:2]) == ''
    assert decoder.decode(euro[2:]) == '€'


def test_binary_output_becomes_replacement_characters_not_an_error() -> None:
    decoder = OutputDecoder()
    every_byte = bytes(range(256)) * 4
    text = decoder.decode(every_byte) + decoder.decode(b'\xff\xfe\xc3', final=True)
    assert '\ufffd' in text
    assert text.startswith(''.join(chr(code) for code in range(128)))


def test_typing_is_handed_over_at_once() -> None:
    clock = FakeClock()
    coalescer = Coalescer(interval=0.025, limit=1000, small=100, clock=clock)
    for key in 'ls -l':
        coalescer.add(key)
        assert coalescer.wait() == 0.0
        assert coalescer.take() == key
        clock.now += 0.001


def test_a_stream_is_gathered_for_one_interval() -> None:
    # Given a stream that has just handed over a big piece
    clock = FakeClock()
    coalescer = Coalescer(interval=0.025, limit=10_000, small=100, clock=clock)
    coalescer.add('x' * 500)
    assert coalescer.wait() == 0.0  # after a quiet spell the first piece goes at once
    assert coalescer.take() == 'x' * 500
    # When more arrives right after, it waits for the rest of the interval
    clock.now += 0.010
    coalescer.add('y' * 500)
    assert abs(coalescer.wait() - 0.015) < 1e-9
    clock.now += 0.015
    assert coalescer.wait() == 0.0
    assert coalescer.take() == 'y' * 500


def test_a_full_batch_goes_out_before_the_interval() -> None:
    clock = FakeClock()
    coalescer = Coalescer(interval=0.025, limit=1000, small=100, clock=clock)
    coalescer.add('x' * 500)
    coalescer.take()
    coalescer.add('y' * 999)
    assert coalescer.wait() > 0
    coalescer.add('z')
    assert coalescer.wait() == 0.0
    assert coalescer.take() == 'y' * 999 + 'z'
    assert coalescer.take() == '' and coalescer.size == 0
