"""Terminal sessions recorded as asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/): output and resizes,
typed input only when ``BERTH_RECORD_INPUT`` says so (typed passwords would land in it).

One ``.cast`` file per session under ``<data dir>/recordings``: a JSON header line (the asciicast fields, plus a
``berth`` object naming who, where and what), then one JSON array per event: ``[seconds, "o", text]`` for output,
``[seconds, "i", text]`` for input, ``[seconds, "r", "COLSxROWS"]`` for a resize and ``[seconds, "m", label]`` for a
marker (the size cap was reached). The session's reader and writer threads call :class:`Recorder`; nothing here runs
on the event loop. Files older than the retention are deleted by :meth:`Recordings.sweep`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from core.permissions import LOCAL_ENDPOINT, Scope

log = logging.getLogger(__name__)

RECORDING_ID = re.compile(r'[0-9a-f]{24}')
CAP_MARKER = 'recording stopped: size cap reached'


@dataclass(kw_only=True, slots=True, frozen=True)
class RecordingInfo:
    """A recording's header: who opened the session, where, and what ran."""

    id: str
    username: str
    owner: str  # the stable identity of whoever opened it (a scope's owner)
    container: str
    container_id: str
    endpoint: str
    command: str
    started_at: float
    width: int
    height: int
    input_recorded: bool
    size: int = 0  # bytes on disk

    @property
    def scope(self) -> Scope:
        """A recording belongs to whoever opened the session, on the container's endpoint."""
        return Scope(endpoint=self.endpoint, owner=self.owner)

    @classmethod
    def from_header(cls, recording_id: str, header: dict[str, Any], size: int = 0) -> RecordingInfo:
        berth = header.get('berth') or {}
        return cls(
            id=recording_id,
            username=str(berth.get('username', '')),
            owner=str(berth.get('owner', '')),
            container=str(berth.get('container', '')),
            container_id=str(berth.get('container_id', '')),
            endpoint=str(berth.get('endpoint', LOCAL_ENDPOINT)),
            command=str(berth.get('command', '')),
            started_at=float(header.get('timestamp') or 0),
            width=int(header.get('width') or 80),
            height=int(header.get('height') or 24),
            input_recorded=bool(berth.get('input_recorded')),
            size=size,
        )


class Recorder:
    """Writes one session's recording. Thread-safe; every write after :meth:`close` (or past the cap) is dropped.

    Made by :meth:`Recordings.recorder` before the session opens; :meth:`begin` writes the header once the terminal's
    size and the command are known.
    """

    def __init__(self, path: Path, *, who: dict[str, str], record_input: bool, max_bytes: int) -> None:
        self.path = path
        self.id = path.stem
        self.who = who
        self.record_input = record_input
        self.max_bytes = max_bytes
        self._file: IO[str] | None = None
        self._lock = threading.Lock()
        self._started = 0.0
        self._written = 0
        self._capped = False
        self._closed = False
        self._size = (0, 0)

    def begin(self, rows: int, cols: int, command: str) -> None:
        header = {
            'version': 2,
            'width': cols,
            'height': rows,
            'timestamp': int(time.time()),
            'title': f'{self.who.get("container", "")} · {self.who.get("username", "")}',
            'env': {'TERM': 'xterm-256color'},
            'berth': {**self.who, 'command': command, 'input_recorded': self.record_input},
        }
        with self._lock:
            if self._closed or self._file is not None:
                return
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open('w', encoding='utf-8')
            except OSError as error:  # a full or read-only data directory must not stop the terminal
                log.warning('cannot record the terminal session to %s: %s', self.path, error)
                self._closed = True
                return
            self._started = time.monotonic()
            self._size = (rows, cols)
            self._write_line(json.dumps(header, ensure_ascii=False))

    def output(self, text: str) -> None:
        self._event('o', text)

    def input(self, text: str) -> None:
        if self.record_input:
            self._event('i', text)

    def resize(self, rows: int, cols: int) -> None:
        with self._lock:
            if (rows, cols) == self._size:
                return
            self._size = (rows, cols)
        self._event('r', f'{cols}x{rows}')

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._file is not None:
                with contextlib.suppress(OSError):
                    self._file.close()

    def _event(self, kind: str, data: str) -> None:
        if not data:
            return
        with self._lock:
            if self._file is None or self._closed or self._capped:
                return
            elapsed = round(time.monotonic() - self._started, 6)
            line = json.dumps([elapsed, kind, data], ensure_ascii=False)
            if self._written + len(line) + 1 > self.max_bytes:
                self._capped = True
                line = json.dumps([elapsed, 'm', CAP_MARKER])
            self._write_line(line)

    def _write_line(self, line: str) -> None:
        assert self._file is not None
        try:
            self._file.write(line + '\n')
            self._file.flush()  # a panel that dies keeps what its sessions showed so far
            self._written += len(line) + 1
        except OSError as error:  # disk full: stop recording, keep the session
            log.warning('recording %s stopped: %s', self.id, error)
            self._closed = True


class Recordings:
    """The recordings directory: new recorders, headers, files, and the retention sweep."""

    def __init__(self, directory: Path, *, record_input: bool = False, max_bytes: int = 0, days: float = 30) -> None:
        self.directory = directory
        self.record_input = record_input
        self.max_bytes = max_bytes  # 0: recording is off
        self.days = days

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def recorder(
        self, *, username: str, owner: str, container: str, container_id: str, endpoint: str
    ) -> Recorder | None:
        if not self.enabled:
            return None
        who = {
            'username': username,
            'owner': owner,
            'container': container,
            'container_id': container_id,
            'endpoint': endpoint,
        }
        path = self.directory / f'{secrets.token_hex(12)}.cast'
        return Recorder(path, who=who, record_input=self.record_input, max_bytes=self.max_bytes)

    def path(self, recording_id: str) -> Path | None:
        """The file of a recording, or None for an id that is not one (never a path outside the directory)."""
        if not RECORDING_ID.fullmatch(recording_id):
            return None
        path = self.directory / f'{recording_id}.cast'
        return path if path.is_file() else None

    def info(self, recording_id: str) -> RecordingInfo | None:
        path = self.path(recording_id)
        if path is None:
            return None
        try:
            with path.open(encoding='utf-8') as file:
                header = json.loads(file.readline())
            return RecordingInfo.from_header(recording_id, header, path.stat().st_size)
        except (OSError, ValueError):
            return None

    def all(self) -> Iterator[RecordingInfo]:
        """Every readable recording, newest first. Blocking: call it off the event loop."""
        if not self.directory.is_dir():
            return
        paths = sorted(self.directory.glob('*.cast'), key=_modified, reverse=True)
        for path in paths:
            info = self.info(path.stem)
            if info is not None:
                yield info

    def sweep(self) -> int:
        """Deletes recordings older than the retention; the number deleted. Blocking."""
        if not self.directory.is_dir():
            return 0
        oldest = time.time() - self.days * 86400
        deleted = 0
        for path in self.directory.glob('*.cast'):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < oldest:
                    path.unlink()
                    deleted += 1
        return deleted


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
