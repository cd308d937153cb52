"""ExecSession against the real engine, without a browser: round trips, TTY size, text across reads, exit codes,
Ctrl-C under a flood, attach, and no process left in the container once a session is closed."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import docker
import pytest

import core.streams.exec_hangup
from core.streams.exec_output import Coalescer
from core.streams.exec_session import ExecRequest, ExecSession, SessionError
from core.streams.recording import Recordings
from tests.support.eventually import eventually

MakeContainer = Callable[..., str]
FAKE_BASH = 'printf "#!/bin/sh\\nexport SHELL_KIND=bash\\nexec /bin/sh \\"\\$@\\"\\n" > /bin/bash && chmod +x /bin/bash'


class Screen:
    """What a terminal would show: the session's output as it reaches the loop, and how the session ended."""

    def __init__(self, acknowledge_after: float | None = None) -> None:
        self.text = ''
        self.exit_codes: list[int | None] = []
        self.session: ExecSession | None = None
        self.acknowledge_after = acknowledge_after

    def on_output(self, text: str) -> None:
        self.text += text
        if self.acknowledge_after is not None:  # like a browser that needs a while to render each piece
            asyncio.get_running_loop().call_later(self.acknowledge_after, self._acknowledge, len(text))

    def _acknowledge(self, count: int) -> None:
        assert self.session is not None
        self.session.acknowledge(count)

    def on_exit(self, code: int | None) -> None:
        self.exit_codes.append(code)

    async def shows(self, needle: str, timeout: float = 10) -> None:
        await eventually(lambda: needle in self.text, timeout, f'{needle!r} on the screen')

    async def ended(self, timeout: float = 15) -> int | None:
        await eventually(lambda: bool(self.exit_codes), timeout, 'the session to end')
        assert len(self.exit_codes) == 1, 'on_exit must run exactly once'
        return self.exit_codes[0]


@pytest.fixture
async def open_session(docker_client: docker.DockerClient) -> AsyncIterator[Callable[..., Any]]:
    """Opens sessions like the terminal component does; closes whatever a test left open."""
    sessions: list[ExecSession] = []

    async def open_(
        request: ExecRequest,
        *,
        rows: int = 24,
        cols: int = 80,
        screen: Screen | None = None,
        read_bytes: int | None = None,
        **options: Any,
    ) -> tuple[ExecSession, Screen]:
        screen = screen or Screen()
        session = ExecSession(
            docker_client.api,
            request,
            loop=asyncio.get_running_loop(),
            on_output=screen.on_output,
            on_exit=screen.on_exit,
            **options,
        )
        if read_bytes is not None:
            session.read_bytes = read_bytes
        screen.session = session
        sessions.append(session)
        await asyncio.to_thread(session.open, rows, cols)
        return session, screen

    yield open_
    for session in sessions:
        await asyncio.to_thread(session.close)


def processes(container: str) -> list[str]:
    """The command lines of every process in the container, as `docker top` lists them."""
    lines = subprocess.run(['docker', 'top', container], check=True, capture_output=True, text=True).stdout.splitlines()
    return [line.split(None, 7)[-1] for line in lines[1:]]


async def test_echo_round_trip_in_the_auto_shell(
    open_session: Callable[..., Any], make_container: MakeContainer
) -> None:
    container = make_container()
    session, screen = await open_session(ExecRequest(container_id=container))
    assert session.command == ['/bin/sh']  # busybox has no bash
    session.write('echo hi-$((40+2))\n')
    await screen.shows('hi-42\r\n')


async def test_auto_prefers_bash_when_the_container_has_it(
    open_session: Callable[..., Any], make_container: MakeContainer
) -> None:
    container = make_container()
    subprocess.run(['docker', 'exec', container, 'sh', '-c', FAKE_BASH], check=True)
    session, screen = await open_session(ExecRequest(container_id=container))
    assert session.command == ['/bin/bash']
    session.write('echo kind-$SHELL_KIND\n')
    await screen.shows('kind-bash\r\n')


async def test_resize_reaches_the_tty(open_session: Callable[..., Any], make_container: MakeContainer) -> None:
    container = make_container()
    session, screen = await open_session(ExecRequest(container_id=container), rows=30, cols=100)
    session.write('stty size\n')
    await screen.shows('30 100\r\n')
    await asyncio.to_thread(session.resize, 41, 132)
    session.write('stty size\n')
    await screen.shows('41 132\r\n')


async def test_user_and_working_directory(open_session: Callable[..., Any], make_container: MakeContainer) -> None:
    container = make_container()
    session, screen = await open_session(ExecRequest(container_id=container, user='1234', workdir='/tmp'))
    session.write('echo "$(id -u):$(pwd)"\n')
    await screen.shows('1234:/tmp\r\n')


@pytest.mark.parametrize('read_bytes', [7, 64 * 1024])
async def test_multibyte_characters_split_across_reads_arrive_whole(
    open_session: Callable[..., Any], make_container: MakeContainer, read_bytes: int
) -> None:
    container = make_container()
    command = 'sh -c \'i=0; while [ $i -lt 3000 ]; do printf "ü€😀"; i=$((i+1)); done\''
    # with 7-byte reads, nearly every read ends inside a character
    _, screen = await open_session(ExecRequest(container_id=container, command=command), read_bytes=read_bytes)
    assert await screen.ended() == 0
    assert screen.text == 'ü€😀' * 3000


async def test_binary_output_never_breaks_the_session(
    open_session: Callable[..., Any], make_container: MakeContainer
) -> None:
    container = make_container()
    _, screen = await open_session(
        ExecRequest(container_id=container, command='sh -c "head -c 300000 /dev/urandom; echo; echo done-$((1+1))"')
    )
    assert await screen.ended() == 0
    assert 'done-2' in screen.text


async def test_exit_code_of_a_command_and_of_a_shell(
    open_session: Callable[..., Any], make_container: MakeContainer
) -> None:
    container = make_container()
    _, screen = await open_session(ExecRequest(container_id=container, command='sh -c "exit 3"'))
    assert await screen.ended() == 3
    session, screen = await open_session(ExecRequest(container_id=container))
    session.write('exit 5\n')
    assert await screen.ended() == 5


async def test_a_command_that_does_not_exist_ends_with_the_daemons_message(
    open_session: Callable[..., Any], make_container: MakeContainer
) -> None:
    container = make_container()
    _, screen = await open_session(ExecRequest(container_id=container, command='no-such-program'))
    assert await screen.ended() in (126, 127)
    assert 'no-such-program' in screen.text


async def test_entering_a_stopped_container_is_a_sentence(
    open_session: Callable[..., Any], make_container: MakeContainer
) -> None:
    container = make_container(start=False)
    with pytest.raises(SessionError, match='is not running'):
        await open_session(ExecRequest(container_id=container))


@pytest.mark.parametrize('host_view', [True, False], ids=['signals-from-host', 'signals-by-token'])
async def test_close_leaves_no_process_behind(
    open_session: Callable[..., Any], make_container: MakeContainer, monkeypatch: pytest.MonkeyPatch, host_view: bool
) -> None:
    if not host_view:  # as when the panel runs in a container of its own and cannot see host processes
        monkeypatch.setattr(core.streams.exec_hangup, '_in_container', lambda pid, container_id: False)
    # Given a shell with a background job and a foreground job
    container = make_container()
    session, screen = await open_session(ExecRequest(container_id=container))
    session.write('sleep 1001 &\nsleep 1002\n')
    await eventually(lambda: {'sleep 1001', 'sleep 1002'} <= set(processes(container)), what='both sleeps running')
    # When the session is closed (the tab went away)
    started = time.monotonic()
    await asyncio.to_thread(session.close)
    # Then only the container's own process is left, and the session reports its end once
    assert processes(container) == ['sleep 600']
    assert time.monotonic() - started < 5
    assert await screen.ended() is not None


@pytest.mark.parametrize('delay', [0.0, 0.01, 0.03, 0.08])
async def test_closing_while_the_session_opens_leaves_nothing(
    docker_client: docker.DockerClient, make_container: MakeContainer, delay: float
) -> None:
    # Given a session that is being opened (the user closed the tab at once)
    container = make_container()
    screen = Screen()
    session = ExecSession(
        docker_client.api,
        ExecRequest(container_id=container),
        loop=asyncio.get_running_loop(),
        on_output=screen.on_output,
        on_exit=screen.on_exit,
    )
    opening = asyncio.create_task(asyncio.to_thread(session.open, 24, 80))
    await asyncio.sleep(delay)
    # When it is closed before or while it opens
    await asyncio.to_thread(session.close)
    try:
        await opening
    except SessionError as error:
        assert 'closed while it opened' in str(error)
    # Then no shell is left in the container
    await eventually(lambda: processes(container) == ['sleep 600'], what='only the main process left')


async def test_container_stop_ends_the_session(open_session: Callable[..., Any], make_container: MakeContainer) -> None:
    container = make_container()
    session, screen = await open_session(ExecRequest(container_id=container))
    session.write('echo ready\n')
    await screen.shows('ready\r\n')
    subprocess.run(['docker', 'kill', container], check=True, capture_output=True)
    code = await screen.ended()
    assert code is None or code != 0


async def test_ctrl_c_interrupts_a_flood_promptly(
    open_session: Callable[..., Any], make_container: MakeContainer
) -> None:
    # Given a flood into a terminal that needs 10 ms to show each piece
    container = make_container()
    session, screen = await open_session(
        ExecRequest(container_id=container), screen=Screen(acknowledge_after=0.01), window=256 * 1024
    )
    session.write('yes flood\n')
    await eventually(lambda: len(screen.text) > 2_000_000, what='two megabytes of flood')
    # When Ctrl-C is typed, it is not queued behind the output
    started = time.monotonic()
    session.write('\x03')
    session.write('echo after-$((2+3))\n')
    await screen.shows('after-5\r\n', timeout=10)
    assert time.monotonic() - started < 3
    assert not any('yes' in line for line in processes(container))


async def test_a_terminal_that_never_acknowledges_stops_the_reading(
    open_session: Callable[..., Any], make_container: MakeContainer
) -> None:
    # Given a session with a 64 K window whose terminal never acknowledges what it was given
    container = make_container()
    window, limit = 64 * 1024, 16 * 1024
    session, screen = await open_session(
        ExecRequest(container_id=container, command='yes flood'), window=window, coalescer=Coalescer(limit=limit)
    )
    await eventually(lambda: len(screen.text) >= window, what='a window full of output')
    # When the container goes on printing for a while
    await asyncio.sleep(1.0)
    # Then the session has read no more than the window and one more read, and the process waits on its terminal
    assert len(screen.text) <= window + limit + session.read_bytes
    assert 'yes flood' in processes(container)
    # And once the terminal acknowledges, reading resumes for another window
    shown = len(screen.text)
    session.acknowledge(shown)
    await eventually(lambda: len(screen.text) >= shown + window, what='another window of output')


async def test_attach_to_the_main_process_of_a_tty_container(
    open_session: Callable[..., Any], make_container: MakeContainer
) -> None:
    container = make_container(command='sh', extra=['-it'])
    session, screen = await open_session(ExecRequest(container_id=container, attach=True), rows=33, cols=90)
    session.write('echo attached-$((2*3)); stty size\n')
    await screen.shows('attached-6\r\n33 90\r\n')
    await asyncio.to_thread(session.close)
    assert await screen.ended() is None  # detached: the main process goes on
    state = subprocess.run(
        ['docker', 'inspect', '-f', '{{.State.Running}}', container], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert state == 'true'


async def test_attach_needs_a_tty(open_session: Callable[..., Any], make_container: MakeContainer) -> None:
    container = make_container()
    with pytest.raises(SessionError, match='started with a TTY'):
        await open_session(ExecRequest(container_id=container, attach=True))


@pytest.mark.parametrize('record_input', [False, True])
async def test_a_recorded_session_keeps_the_output_and_typed_input_only_when_allowed(
    open_session: Callable[..., Any], make_container: MakeContainer, tmp_path: Path, record_input: bool
) -> None:
    recordings = Recordings(tmp_path, record_input=record_input, max_bytes=2**20)
    recorder = recordings.recorder(username='olga', owner='olga', container='c', container_id='c', endpoint='local')
    session, screen = await open_session(
        ExecRequest(container_id=make_container()), rows=30, cols=100, recorder=recorder
    )
    session.write('stty -echo; echo ready-$((6*7))\n')  # no echo: what is typed next reaches the output only via read
    await screen.shows('ready-42\r\n')
    session.write('read secret; echo "got ${#secret} characters"\n')
    session.write('hunter2-typed\n')
    await screen.shows('got 13 characters')
    await asyncio.to_thread(session.resize, 40, 120)
    session.write('exit\n')
    await screen.ended()
    lines = [json.loads(line) for line in (tmp_path / f'{session.recorder.id}.cast').read_text().splitlines()]
    header, events = lines[0], lines[1:]
    assert (header['width'], header['height'], header['berth']['command']) == (100, 30, '/bin/sh')
    output = ''.join(data for _, kind, data in events if kind == 'o')
    assert 'ready-42' in output and 'got 13 characters' in output
    assert ['r', '120x40'] in [event[1:] for event in events]
    typed = ''.join(data for _, kind, data in events if kind == 'i')
    assert 'hunter2-typed' not in output
    assert ('hunter2-typed' in typed) is record_input
