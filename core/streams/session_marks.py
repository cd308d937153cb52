"""Terminal sessions a panel leaves behind when it dies: a mark per open exec, hung up at the next start.

The daemon does not end an exec's process when its client goes away, so a shell the panel opened would run on in its
container after the panel was killed (SIGKILL, a crash, the host's OOM killer): nobody could ever type in it, nor close
it. Each exec session therefore leaves a small file (``BERTH_DATA_DIR/terminals/<token>.json``: endpoint, container,
exec id, the session's token) while it is open; a clean close removes it. At start the panel hangs up every exec a
file names (:func:`core.streams.exec_hangup.hang_up`: SIGHUP, then SIGKILL, to the exec's session) and removes it.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from core.docker.client import describe_error
from core.docker.endpoints import Endpoints
from core.streams.exec_hangup import hang_up

log = logging.getLogger(__name__)


@dataclass(kw_only=True, slots=True, frozen=True)
class SessionMark:
    endpoint: str
    container_id: str
    exec_id: str
    token: str


class SessionMarks:
    """The directory of marks; every method blocks (file and Docker work): call it from a thread."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def mark(self, mark: SessionMark) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self._path(mark.token)
            path.with_suffix('.tmp').write_text(json.dumps(asdict(mark)))
            os.replace(path.with_suffix('.tmp'), path)
        except OSError as error:  # a full disk never stops a terminal: only its clean-up after a crash is at risk
            log.warning('could not mark terminal session %s: %s', mark.exec_id[:12], error)

    def unmark(self, token: str) -> None:
        try:
            self._path(token).unlink(missing_ok=True)
        except OSError as error:
            log.warning('could not unmark a terminal session: %s', error)

    def left_behind(self) -> list[SessionMark]:
        marks = []
        for path in sorted(self.directory.glob('*.json')):
            try:
                marks.append(SessionMark(**json.loads(path.read_text())))
            except (OSError, ValueError, TypeError):
                log.warning('ignored an unreadable terminal session mark: %s', path.name)
                path.unlink(missing_ok=True)
        return marks

    def hang_up_left_behind(self, endpoints: Endpoints) -> int:
        """Hangs up every exec a previous run of the panel left open; returns how many. A mark whose engine cannot be
        reached stays for the next start."""
        ended = 0
        for mark in self.left_behind():
            try:
                api = endpoints.client(mark.endpoint).api
                api.ping()
            except Exception as error:
                log.warning(
                    'terminal session left in %s not hung up yet: %s', mark.container_id[:12], describe_error(error)
                )
                continue
            if hang_up(api, mark.container_id, mark.exec_id, mark.token):
                ended += 1
            self.unmark(mark.token)
        if ended:
            log.info('hung up %d terminal sessions the panel left open when it stopped', ended)
        return ended

    def _path(self, token: str) -> Path:
        return self.directory / f'{token}.json'
