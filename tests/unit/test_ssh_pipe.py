"""The ssh transport's pipe reader: full reads for HTTP, short reads for a terminal, and a response file whose close
leaves the pipe open for the connection's next response."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from core.docker.ssh_pipe import PipeReader, ResponseFile


@pytest.fixture
def pipe() -> Iterator[tuple[PipeReader, int]]:
    read_end, write_end = os.pipe()
    yield PipeReader(read_end), write_end
    os.close(read_end)
    os.close(write_end)


def test_two_responses_are_read_from_one_pipe(pipe: tuple[PipeReader, int]) -> None:
    reader, write_end = pipe
    os.write(write_end, b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 204 No Content\r\n\r\n')
    first = ResponseFile(reader, channel=None)
    assert first.readline(65537) == b'HTTP/1.1 200 OK\r\n'
    assert first.readline(65537) == b'Content-Length: 2\r\n'
    assert first.readline(65537) == b'\r\n'
    assert first.read(2) == b'ok'
    first.close()
    second = ResponseFile(reader, channel=None)  # the same connection's next response
    assert second.readline(65537) == b'HTTP/1.1 204 No Content\r\n'
    assert reader.pending() == 2  # '\r\n' read from the pipe already: select would not see it


def test_a_terminal_gets_what_is_there_without_waiting_for_a_full_block(pipe: tuple[PipeReader, int]) -> None:
    reader, write_end = pipe
    assert reader.peek() == b''  # nothing there: peek does not wait
    os.write(write_end, b'$ ')
    assert reader.read1(4096) == b'$ '
    buffer = bytearray(3)
    os.write(write_end, b'abcdef')
    assert reader.readinto(buffer) == 3 and bytes(buffer) == b'abc'
    assert reader.peek() == b'def' and reader.read1(4096) == b'def'
