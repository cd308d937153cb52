"""Interactive sessions in a container (flow 3): ``docker exec`` with a TTY, or attach to a TTY container's main process.

The socket is read in a thread, decoded incrementally and coalesced; text reaches the UI on the event loop. Input
goes out through its own thread, so a keystroke never waits behind output and never blocks the loop.
"""
from __future__ import annotations

import asyncio
import codecs
import logging
import math
import os
import queue
import secrets
import select
import shlex
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docker import APIClient

from .docker_access import describe_error

log = logging.getLogger(__name__)

BASH_PATHS = ('/bin/bash', '/usr/bin/bash')
FALLBACK_SHELL = '/bin/sh'
HANG_UP_GRACE = 1.0
# Used only when the panel cannot see the container's processes from the host (e.g. it runs in a container itself):
# signals every process in the container that carries this session's token in its environment.
SIGNAL_BY_TOKEN = ('for d in /proc/[0-9]*; do if tr "\\0" "\\n" < "$d/environ" 2>/dev/null | grep -qx "$1"; '
                   'then kill -"$2" "${d#/proc/}" 2>/dev/null; fi; done')


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


class OutputDecoder:
    """UTF-8 across reads: a character split between two reads waits for its last byte; invalid bytes become U+FFFD."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder('utf-8')(errors='replace')

    def decode(self, data: bytes, *, final: bool = False) -> str:
        return str(self._decoder.decode(data, final))


class Coalescer:
    """Gathers text into few, large writes. After a quiet spell the first piece goes out at once (typing stays
    instant); under a stream, at most one write per ``interval`` seconds, or sooner once ``limit`` characters wait."""

    def __init__(self, *, interval: float = 0.005, limit: int = 64 * 1024,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.limit = limit
        self.clock = clock
        self._parts: list[str] = []
        self.size = 0
        self._last_take = -math.inf

    def add(self, text: str) -> None:
        if text:
            self._parts.append(text)
            self.size += len(text)

    def wait(self) -> float:
        """Seconds the reader may still wait for more before it must hand over (0: now)."""
        if self.size >= self.limit:
            return 0.0
        return max(0.0, self._last_take + self.interval - self.clock())

    def take(self) -> str:
        text = ''.join(self._parts)
        self._parts, self.size = [], 0
        if text:
            self._last_take = self.clock()
        return text


class ExecSession:
    """One interactive TTY session in one container.

    ``on_output`` receives coalesced text and ``on_exit`` the exit code (None when unknown, e.g. after detaching),
    both on ``loop``; ``on_exit`` runs exactly once, also after :meth:`close`. With ``window`` set, reading pauses
    while more than ``window`` characters wait for :meth:`acknowledge`, so a flood cannot outrun the terminal.
    """

    read_bytes = 64 * 1024

    def __init__(self, api: APIClient, request: ExecRequest, *, loop: asyncio.AbstractEventLoop,
                 on_output: Callable[[str], None], on_exit: Callable[[int | None], None],
                 window: int | None = None, coalescer: Coalescer | None = None) -> None:
        self.api = api
        self.request = request
        self.loop = loop
        self.on_output = on_output
        self.on_exit = on_exit
        self.window = window
        self.command: list[str] = []
        self.exec_id = ''
        self.started_at = 0.0
        self.ended_at = 0.0
        self.exit_code: int | None = None
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
        raw = getattr(response_socket, '_sock', response_socket)
        raw.settimeout(None)
        self._socket = raw
        self._handles = [response_socket, getattr(response_socket, '_response', None)]
        early = self._buffered_bytes(response_socket)
        self.started_at = time.time()
        self.resize(rows, cols)
        self._reader = threading.Thread(target=self._read, args=(early,), name='berth-exec-reader', daemon=True)
        self._reader.start()
        threading.Thread(target=self._write_input, name='berth-exec-writer', daemon=True).start()

    def write(self, data: str) -> None:
        """Queues keyboard input for the process; never blocks."""
        if not self._closed and data:
            self._input.put(data.encode())

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
        self._input.put(None)
        if self._socket is not None:
            try:
                self._socket.shutdown(socket.SHUT_RDWR)
            except OSError:  # already closed by the other side
                pass
        if self.exec_id:
            self._hang_up()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout=10)

    # -- opening ------------------------------------------------------------------------------------------------------

    def _start_exec(self) -> Any:
        self.command = self.request.argv() or self._auto_command()
        created = self.api.exec_create(self.request.container_id, self.command, stdin=True, tty=True,
                                       user=self.request.user, workdir=self.request.workdir or None,
                                       environment={'TERM': 'xterm-256color', 'BERTH_SESSION': self._token})
        self.exec_id = created['Id']
        return self.api.exec_start(self.exec_id, tty=True, socket=True)

    def _attach(self) -> Any:
        config = self.api.inspect_container(self.request.container_id).get('Config') or {}
        if not config.get('Tty'):
            raise SessionError('attach needs a container started with a TTY (docker run -it); open a shell instead')
        self.command = ['(attach)']
        return self.api.attach_socket(self.request.container_id, params={'stdin': 1, 'stdout': 1, 'stderr': 1,
                                                                         'stream': 1})

    def _auto_command(self) -> list[str]:
        for path in BASH_PATHS:
            # HEAD on the archive endpoint stats a path without running anything in the container
            response = self.api.head(self.api._url('/containers/{0}/archive', self.request.container_id),
                                     params={'path': path}, timeout=10)
            if response.status_code == 200:
                return [path]
        return [FALLBACK_SHELL]

    @staticmethod
    def _buffered_bytes(response_socket: Any) -> bytes:
        """Output that arrived with the HTTP upgrade answer sits in the HTTP reader's buffer, not in the socket."""
        reader = getattr(getattr(getattr(getattr(response_socket, '_response', None), 'raw', None), '_fp', None), 'fp', None)
        raw = getattr(response_socket, '_sock', None)
        if reader is None or raw is None:
            return b''
        try:
            raw.settimeout(0)
            pending = reader.peek()
            return bytes(reader.read(len(pending))) if pending else b''
        except (OSError, ValueError):
            return b''
        finally:
            raw.settimeout(None)

    # -- threads ------------------------------------------------------------------------------------------------------

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
            for handle in (self._socket, *self._handles):
                try:
                    if handle is not None:
                        handle.close()
                except Exception:  # closing a broken connection may fail; nothing is left to do with it
                    pass
            self._hand_over(self._finish)

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
            with self._room:
                self._unacknowledged += len(text)
            self._hand_over(self._emit, text)

    def _write_input(self) -> None:
        while (data := self._input.get()) is not None:
            try:
                assert self._socket is not None
                self._socket.sendall(data)
            except OSError:  # the session ended; the reader reports it
                return

    def _hand_over(self, function: Callable[..., None], *args: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(function, *args)
        except RuntimeError:  # the loop is closed: the panel is shutting down
            pass

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

    # -- ending -------------------------------------------------------------------------------------------------------

    def _find_exit_code(self) -> int | None:
        try:
            if self.request.attach:
                state = self.api.inspect_container(self.request.container_id).get('State') or {}
                return None if state.get('Running') else int(state.get('ExitCode') or 0)
            if not self.exec_id:
                return None
            deadline = time.monotonic() + 2 * HANG_UP_GRACE + 1
            while (info := self.api.exec_inspect(self.exec_id))['Running'] and time.monotonic() < deadline:
                time.sleep(0.05)
            return None if info['ExitCode'] is None else int(info['ExitCode'])
        except Exception:  # container gone with its exec: nothing left to ask
            return None

    def _running_pid(self) -> int:
        try:
            info = self.api.exec_inspect(self.exec_id)
        except Exception:  # the container (and the exec with it) is gone
            return 0
        return int(info.get('Pid') or 0) if info.get('Running') else 0

    def _wait_ended(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while self._running_pid():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def _hang_up(self) -> None:
        """What closing a real terminal does: SIGHUP to the session's processes, SIGKILL if the shell outlives it."""
        pid = self._running_pid()
        if not pid:
            return
        for signal_name in ('HUP', 'KILL'):
            if not self._signal_on_host(pid, signal_name):
                self._signal_by_token(signal_name)
            if self._wait_ended(HANG_UP_GRACE):
                return
        log.warning('exec %s in %s still runs after SIGKILL', self.exec_id[:12], self.request.container_id[:12])

    def _signal_on_host(self, leader: int, signal_name: str) -> bool:
        if not _in_container(leader, self.request.container_id):
            return False
        signals = [signal.SIGHUP, signal.SIGCONT] if signal_name == 'HUP' else [signal.SIGKILL]  # stopped jobs must wake
        for pid in _session_members(leader):
            for number in signals:
                try:
                    os.kill(pid, number)
                except ProcessLookupError:  # ended meanwhile
                    pass
                except PermissionError:  # the panel does not run as root: let the container do it
                    return False
        return True

    def _signal_by_token(self, signal_name: str) -> None:
        try:
            created = self.api.exec_create(self.request.container_id, ['sh', '-c', SIGNAL_BY_TOKEN, 'sh',
                                                                       f'BERTH_SESSION={self._token}', signal_name])
            self.api.exec_start(created['Id'])
        except Exception as error:  # no shell in the image, or the container is gone
            log.warning('could not signal exec %s: %s', self.exec_id[:12], describe_error(error))


def _in_container(pid: int, container_id: str) -> bool:
    """Is host process ``pid`` inside the container? False when the panel cannot see host processes."""
    try:
        return container_id in Path(f'/proc/{pid}/cgroup').read_text()
    except OSError:
        return False


def _session_members(leader: int) -> list[int]:
    """Host pids of every process in the terminal session that ``leader`` (the exec's process) leads."""
    members = []
    for entry in os.scandir('/proc'):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, 'stat').read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(')') + 2:].split()  # state, ppid, pgrp, session, ...
            if len(fields) > 3 and fields[3] == str(leader):
                members.append(int(entry.name))
    return members or [leader]
