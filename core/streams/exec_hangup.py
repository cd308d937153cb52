"""Ending what an exec started, as closing a real terminal would: SIGHUP to its session, SIGKILL if the shell stays.

The daemon does not end an exec's process when its client goes away (a TTY exec keeps running), so the panel does.
From the host (the panel runs beside dockerd) it signals the exec's terminal session directly, after checking that
the process belongs to the container. Where host processes are out of sight (the panel runs in a container of its
own, or not as root) a short exec in the container signals every process carrying the session's token instead.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

from docker import APIClient

from core.docker.client import describe_error

log = logging.getLogger(__name__)

GRACE_SECONDS = 1.0
TOKEN_VARIABLE = 'BERTH_SESSION'
SIGNAL_BY_TOKEN = (
    'for d in /proc/[0-9]*; do if tr "\\0" "\\n" < "$d/environ" 2>/dev/null | grep -qx "$1"; '
    'then kill -"$2" "${d#/proc/}" 2>/dev/null; fi; done'
)


def hang_up(api: APIClient, container_id: str, exec_id: str, token: str) -> bool:
    """Ends exec ``exec_id`` and its terminal session; True when nothing of it runs any more. Blocking (up to ~2 s)."""
    pid = _started_pid(api, exec_id)
    if not pid:
        return True
    for signal_name in ('HUP', 'KILL'):
        if not _signal_on_host(pid, container_id, signal_name):
            _signal_by_token(api, container_id, token, signal_name)
        if _wait_ended(api, exec_id, GRACE_SECONDS):
            return True
    log.warning('exec %s in %s still runs after SIGKILL', exec_id[:12], container_id[:12])
    return False


def running_pid(api: APIClient, exec_id: str) -> int:
    """The exec's host pid while it runs, else 0."""
    try:
        info = api.exec_inspect(exec_id)
    except Exception:  # the container, and the exec with it, is gone
        return 0
    return int(info.get('Pid') or 0) if info.get('Running') else 0


def _started_pid(api: APIClient, exec_id: str, seconds: float = 2 * GRACE_SECONDS) -> int:
    """The exec's host pid once it runs: the daemon answers exec start before it starts the process."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            info = api.exec_inspect(exec_id)
        except Exception:  # the container, and the exec with it, is gone
            return 0
        pid = int(info.get('Pid') or 0) if info.get('Running') else 0
        if pid or info.get('ExitCode') is not None or time.monotonic() > deadline:
            return pid  # 'Running' comes before the pid is known
        time.sleep(0.02)


def _wait_ended(api: APIClient, exec_id: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while running_pid(api, exec_id):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _signal_on_host(leader: int, container_id: str, signal_name: str) -> bool:
    if not _in_container(leader, container_id):
        return False
    # stopped jobs must be woken to see the hangup
    numbers = [signal.SIGHUP, signal.SIGCONT] if signal_name == 'HUP' else [signal.SIGKILL]
    for pid in _session_members(leader):
        for number in numbers:
            try:
                os.kill(pid, number)
            except ProcessLookupError:  # ended meanwhile
                pass
            except PermissionError:  # the panel does not run as root: let the container do it
                return False
    return True


def _signal_by_token(api: APIClient, container_id: str, token: str, signal_name: str) -> None:
    try:
        created = api.exec_create(
            container_id, ['sh', '-c', SIGNAL_BY_TOKEN, 'sh', f'{TOKEN_VARIABLE}={token}', signal_name]
        )
        api.exec_start(created['Id'])
    except Exception as error:  # no shell in the image, or the container is gone
        log.warning('could not signal the session in %s: %s', container_id[:12], describe_error(error))


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
            fields = stat[stat.rfind(')') + 2 :].split()  # state, ppid, pgrp, session, ...
            if len(fields) > 3 and fields[3] == str(leader):
                members.append(int(entry.name))
    return members or [leader]
