"""Interactive sessions in a container (flow 3): ``docker exec`` with a TTY, or attach to a TTY container's main
process.

The socket is read in a thread, decoded incrementally and coalesced; text reaches the UI on the event loop. Input
goes out through its own thread, so a keystroke never waits behind output and never blocks the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import secrets
import select
import shlex
import socket
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from docker import APIClient

from core.docker.client import describe_error
from core.docker.endpoints import Endpoints
from core.docker.raw import buffered_bytes, path_exists, unwrap_socket
from core.handover import hand_over
from core.permissions import LOCAL_ENDPOINT
from core.streams.engine_gone import is_engine_gone
from core.streams.exec_hangup import GRACE_SECONDS, TOKEN_VARIABLE, hang_up
from core.streams.exec_output import Coalescer, OutputDecoder
from core.streams.recording import Recorder
from core.streams.session_marks import SessionMark, SessionMarks

log = logging.getLogger(__name__)

BASH_PATHS = ('/bin/bash', '/usr/bin/bash')
FALLBACK_SHELL = '/bin/sh'


class SessionError(Exception):
    """Why a session could not open, as a sentence for the user."""


@dataclass(kw_only=True, slots=True, frozen=True)
class ExecRequest:
    """What to run. An empty ``command`` means auto: bash if the container has it, else sh."""

    container_id: str
    command: str = ''
    user: str = ''
    workdir: str = ''
    attach: bool = False

    def argv(self) -> list[str]:
        try:
            return shlex.split(self.command)
        except ValueError as error:
            raise SessionError(f'the command cannot be read: {error}') from error


class ExecSession:
    """One interactive TTY session in one container.

    ``on_output`` receives coalesced text and ``on_exit`` the exit code (None when unknown, e.g. after detaching),
    both on ``loop``; ``on_exit`` runs exactly once, also after :meth:`close`. With ``window`` set, reading pauses
    while more than ``window`` characters wait for :meth:`acknowledge`, so a flood cannot outrun the terminal. Made
    through :meth:`Terminals.session`, an open session is one of the panel's, ended when the panel stops.
    """

    read_bytes = 64 * 1024

    def __init__(
        self,
        api: APIClient,
        request: ExecRequest,
        *,
        loop: asyncio.AbstractEventLoop,
        on_output: Callable[[str], None],
        on_exit: Callable[[int | None], None],
        window: int | None = None,
        coalescer: Coalescer | None = None,
        terminals: Terminals | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        self.api = api
        self.recorder = recorder  # records output, resizes (and input, when allowed) from the session's threads
        self.terminals = terminals
        self.request = request
        self.loop = loop
        self.on_output = on_output
        self.on_exit = on_exit
        self.window = window
        self.command: list[str] = []
        self.exec_id = ''
        self.endpoint = LOCAL_ENDPOINT  # set by Terminals.session
        self.started_at = 0.0
        self.ended_at = 0.0
        self.exit_code: int | None = None
        self.engine_gone = False  # it ended because its engine could not be reached any more
        self._token = secrets.token_hex(12)
        self._decoder = OutputDecoder()
        self._coalescer = coalescer or Coalescer()
        self._socket: socket.socket | None = None
        self._handles: list[Any] = []  # what docker-py hands back with the socket; closed with it
        self._input: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._room = threading.Condition()
        self._unacknowledged = 0
        self._closed = False
        self._reader: threading.Thread | None = None

    @property
    def token(self) -> str:
        """What the exec's environment carries (``BERTH_SESSION``): how its processes are found to hang them up."""
        return self._token

    @property
    def live(self) -> bool:
        """Opened, and neither ended nor closed."""
        return bool(self.started_at) and not self.ended_at and not self._closed

    @property
    def duration(self) -> float:
        return (self.ended_at or time.time()) - self.started_at if self.started_at else 0.0

    def open(self, rows: int, cols: int) -> None:
        """Starts the exec (or attaches) with a TTY of ``rows`` x ``cols``. Blocking: call it through ``run.io_bound``.

        Raises :class:`SessionError` with the daemon's message when the container cannot be entered."""
        try:
            response_socket = self._attach() if self.request.attach else self._start_exec()
        except SessionError:
            raise
        except Exception as error:  # daemon refused (not running, paused, no such user...) or unreachable
            raise SessionError(describe_error(error)) from error
        raw, handles = unwrap_socket(response_socket)
        raw.settimeout(None)
        early = buffered_bytes(response_socket)
        with self._room:
            closed_meanwhile = self._closed
            if not closed_meanwhile:
                self._socket, self._handles = raw, handles
        if closed_meanwhile:  # close() came while the exec started: it could not reach the socket, so end it here
            self._close_handles([raw, response_socket])
            if self.exec_id:
                hang_up(self.api, self.request.container_id, self.exec_id, self._token)
            raise SessionError('the terminal was closed while it opened')
        self.started_at = time.time()
        if self.recorder is not None:
            self.recorder.begin(rows, cols, ' '.join(self.command))
        self.resize(rows, cols)
        self._reader = threading.Thread(target=self._read, args=(early,), name='berth-exec-reader', daemon=True)
        self._reader.start()
        threading.Thread(target=self._write_input, name='berth-exec-writer', daemon=True).start()
        if self.terminals is not None and not self.terminals.add(self):
            self.close()
            raise SessionError('the panel is stopping')

    def write(self, data: str) -> None:
        """Queues keyboard input for the process; never blocks."""
        if not self._closed and data:
            self._input.put(data.encode())
            if self.terminals is not None:
                self.terminals.touch(self.request.container_id)

    def resize(self, rows: int, cols: int) -> None:
        """Sets the TTY size, so ``stty size`` answers ``rows cols``. Blocking (one API call)."""
        if self._closed or self._socket is None or rows < 1 or cols < 1:
            return
        for attempt in range(3):
            try:
                if self.request.attach:
                    self.api.resize(self.request.container_id, height=rows, width=cols)
                else:
                    self.api.exec_resize(self.exec_id, height=rows, width=cols)
                if self.recorder is not None:
                    self.recorder.resize(rows, cols)
                return
            except Exception as error:  # the process may not be running yet (just started) or any more
                log.debug('resize failed (attempt %d): %s', attempt + 1, describe_error(error))
                time.sleep(0.05)

    def acknowledge(self, count: int) -> None:
        """The terminal has shown ``count`` more characters; reading resumes when the window has room."""
        with self._room:
            self._unacknowledged = max(0, self._unacknowledged - count)
            self._room.notify_all()

    def close(self) -> None:
        """Ends the session: stops reading, closes the socket and hangs up everything the exec started in the container
        (in attach mode the main process keeps running). Blocking and idempotent: call it through a thread."""
        with self._room:
            if self._closed:
                return
            self._closed = True
            self._room.notify_all()
            sock = self._socket
        if self.terminals is not None:
            self.terminals.discard(self)
        self._input.put(None)
        if sock is None:  # not open yet: open() ends what it started
            return
        with contextlib.suppress(OSError):  # already closed by the other side
            sock.shutdown(socket.SHUT_RDWR)
        if self.exec_id:
            hang_up(self.api, self.request.container_id, self.exec_id, self._token)
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout=10)

    def _start_exec(self) -> Any:
        self.command = self.request.argv() or self._auto_command()
        created = self.api.exec_create(
            self.request.container_id,
            self.command,
            stdin=True,
            tty=True,
            user=self.request.user,
            workdir=self.request.workdir or None,
            environment={'TERM': 'xterm-256color', TOKEN_VARIABLE: self._token},
        )
        self.exec_id = created['Id']
        return self.api.exec_start(self.exec_id, tty=True, socket=True)

    def _attach(self) -> Any:
        config = self.api.inspect_container(self.request.container_id).get('Config') or {}
        if not config.get('Tty'):
            raise SessionError('attach needs a container started with a TTY (docker run -it); open a shell instead')
        self.command = ['(attach)']
        return self.api.attach_socket(
            self.request.container_id, params={'stdin': 1, 'stdout': 1, 'stderr': 1, 'stream': 1}
        )

    def _auto_command(self) -> list[str]:
        for path in BASH_PATHS:
            if path_exists(self.api, self.request.container_id, path):
                return [path]
        return [FALLBACK_SHELL]

    def _read(self, early: bytes) -> None:
        coalescer = self._coalescer
        coalescer.add(self._decoder.decode(early))
        try:
            while True:
                self._wait_for_room()
                data = self._receive(None if not coalescer.size else 0.0)
                while data:
                    coalescer.add(self._decoder.decode(data))
                    wait = coalescer.wait()
                    data = self._receive(wait) if wait > 0 else None
                self._deliver(coalescer.take())
                if data == b'':
                    break
        finally:
            self._deliver(coalescer.take() + self._decoder.decode(b'', final=True))
            self.exit_code = self._find_exit_code()
            self.ended_at = time.time()
            if self.terminals is not None:
                self.terminals.touch(self.request.container_id)
            if self.recorder is not None:
                self.recorder.close()
            self._close_handles([self._socket, *self._handles])
            self._hand_over(self._finish)

    @staticmethod
    def _close_handles(handles: list[Any]) -> None:
        for handle in handles:
            try:
                if handle is not None:
                    handle.close()
            except Exception:  # closing a broken connection may fail; nothing is left to do with it
                pass

    def _receive(self, timeout: float | None) -> bytes | None:
        """Up to ``read_bytes``: b'' at the end, None if nothing came within ``timeout`` (None: wait for ever)."""
        sock = self._socket
        assert sock is not None
        try:
            if timeout is not None and not getattr(sock, 'pending', lambda: 0)():
                ready, _, _ = select.select([sock], [], [], timeout)
                if not ready:
                    return None
            return sock.recv(self.read_bytes)
        except (OSError, ValueError):  # closed under us by close()
            return b''

    def _wait_for_room(self) -> None:
        if self.window is not None:
            with self._room:
                self._room.wait_for(lambda: self._unacknowledged < (self.window or 0) or self._closed)

    def _deliver(self, text: str) -> None:
        if text:
            if self.recorder is not None:
                self.recorder.output(text)
            with self._room:
                self._unacknowledged += len(text)
            self._hand_over(self._emit, text)

    def _write_input(self) -> None:
        while (data := self._input.get()) is not None:
            try:
                assert self._socket is not None
                self._socket.sendall(data)
                if self.recorder is not None:
                    self.recorder.input(data.decode(errors='replace'))
            except OSError:  # the session ended; the reader reports it
                return

    def _hand_over(self, function: Callable[..., None], *args: Any) -> None:
        hand_over(self.loop, function, *args)

    def _emit(self, text: str) -> None:
        try:
            self.on_output(text)
        except Exception:  # a broken terminal must not stop the session's bookkeeping
            log.exception('terminal output handler failed')

    def _finish(self) -> None:
        try:
            self.on_exit(self.exit_code)
        except Exception:
            log.exception('terminal exit handler failed')

    def _find_exit_code(self) -> int | None:
        try:
            if self.request.attach:
                state = self.api.inspect_container(self.request.container_id).get('State') or {}
                return None if state.get('Running') else int(state.get('ExitCode') or 0)
            if not self.exec_id:
                return None
            deadline = time.monotonic() + 2 * GRACE_SECONDS + 1
            while (info := self.api.exec_inspect(self.exec_id))['Running'] and time.monotonic() < deadline:
                time.sleep(0.05)
            return None if info['ExitCode'] is None else int(info['ExitCode'])
        except Exception as error:  # container gone with its exec, or the engine itself: nothing left to ask
            self.engine_gone = is_engine_gone(error)
            return None


class Terminals:
    """The panel's terminal sessions: opened through it, and all ended when the panel stops (its shells must not
    outlive it). Owned by the system object (``Services.terminals``). Knows, per container, how many are open and when
    one last opened, was typed in or closed (``time.time()``): what idle stop counts as activity."""

    def __init__(self, endpoints: Endpoints, marks: SessionMarks | None = None) -> None:
        self.endpoints = endpoints
        self.marks = marks  # open execs on disk, hung up at the next start if the panel dies (session_marks.py)
        self._open: weakref.WeakSet[ExecSession] = weakref.WeakSet()  # a session nobody holds any more is let go
        self._lock = threading.Lock()
        self._stopped = False
        self._activity: dict[str, float] = {}  # container id → the latest opening, keystroke or closing

    def session(
        self,
        request: ExecRequest,
        *,
        loop: asyncio.AbstractEventLoop,
        on_output: Callable[[str], None],
        on_exit: Callable[[int | None], None],
        endpoint: str = LOCAL_ENDPOINT,
        window: int | None = None,
        coalescer: Coalescer | None = None,
        recorder: Recorder | None = None,
    ) -> ExecSession:
        """A session in ``endpoint``'s container, not open yet (see :meth:`ExecSession.open`)."""
        session = ExecSession(
            self.endpoints.client(endpoint).api,
            request,
            loop=loop,
            on_output=on_output,
            on_exit=on_exit,
            window=window,
            coalescer=coalescer,
            terminals=self,
            recorder=recorder,
        )
        session.endpoint = endpoint
        return session

    @property
    def open_sessions(self) -> list[ExecSession]:
        with self._lock:
            return list(self._open)

    def open_count(self, container_id: str) -> int:
        """How many sessions are open in the container now."""
        with self._lock:
            return sum(1 for session in self._open if session.live and session.request.container_id == container_id)

    def last_activity(self, container_id: str) -> float:
        """When a session in the container last opened, was typed in or closed; 0 when never (since the start)."""
        return self._activity.get(container_id, 0.0)

    def touch(self, container_id: str) -> None:
        self._activity[container_id] = time.time()

    def add(self, session: ExecSession) -> bool:
        """Records a session that opened; False once the panel is stopping (the session must end)."""
        with self._lock:
            if self._stopped:
                return False
            self._open.add(session)
        if self.marks is not None and session.exec_id:
            self.marks.mark(
                SessionMark(
                    endpoint=session.endpoint,
                    container_id=session.request.container_id,
                    exec_id=session.exec_id,
                    token=session.token,
                )
            )
        self.touch(session.request.container_id)
        return True

    def discard(self, session: ExecSession) -> None:
        with self._lock:
            self._open.discard(session)
        if self.marks is not None:
            self.marks.unmark(session.token)
        self.touch(session.request.container_id)

    def close_all(self, timeout: float = 10.0) -> None:
        """Ends every open session, in parallel; no new one opens after. Blocking."""
        with self._lock:
            self._stopped = True
            sessions = list(self._open)
        threads = [threading.Thread(target=session.close, name='berth-exec-close') for session in sessions]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    async def stop(self) -> None:
        """:meth:`close_all` off the event loop."""
        await asyncio.to_thread(self.close_all)
