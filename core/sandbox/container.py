"""The body of a run's container: everything it is denied, in one place.

No network, a read-only root filesystem, size-capped tmpfs (noexec, nosuid, nodev) for the work directory and /tmp, a
non-root uid:gid, every capability dropped, no-new-privileges, Docker's default seccomp profile (never replaced), a
process limit, memory equal to memory+swap, a CPU limit, open-file and file-size ulimits, no log driver (the worker
reads the output itself), labels that find it again. The worker adds the wall clock and the output cap.

The script reaches the container on its standard input, never through a file the host writes: a small bootstrap
(run as the run's own uid, inside the container) saves the script and the input that follows it into tmpfs, then
runs the runtime's command with that input as its standard input. It needs ``sh``, ``cat``, ``dd``, ``wc`` and
``rm`` in the image (any Debian, Alpine or BusyBox based image has them).
"""

from __future__ import annotations

from typing import Any

import docker
from docker.types import LogConfig, Ulimit

from core.sandbox.run import RunRequest
from core.sandbox.runtimes import WORK_DIR

SANDBOX_LABEL = 'berth.sandbox'  # '1' on every run's container
RUN_LABEL = 'berth.sandbox.run'  # the run id
DEADLINE_LABEL = 'berth.sandbox.deadline'  # after this (unix time) nobody runs it any more: the janitor removes it
START_GRACE = 15.0  # seconds between create and start the deadline allows for
# Under gVisor the process limit counts the sandbox kernel's own threads too (about 50 for Debian's runsc, ptrace
# platform): a run gets the runtime's limit on top of these
SENTRY_THREADS = 64
INPUT = '/tmp/.berth-input'
# $1: the script's size in bytes, $2: its file name; then the command and its arguments
BOOTSTRAP = (
    f'cat > {INPUT} || exit 125; exec < {INPUT}; rm -f {INPUT}; '
    f'dd bs="$1" count=1 of="{WORK_DIR}/$2" 2>/dev/null; '
    f'[ "$(wc -c < "{WORK_DIR}/$2")" -eq "$1" ] 2>/dev/null '
    '|| { echo "berth: the script does not fit in the work directory" >&2; exit 125; }; '
    'shift 2; exec "$@"'
)


def container_name(run_id: str) -> str:
    return f'berth-sandbox-{run_id[:12]}'


def create_arguments(
    api: docker.APIClient, request: RunRequest, *, run_id: str, isolation: str, now: float
) -> dict[str, Any]:
    """Keyword arguments for ``APIClient.create_container`` for one run; ``isolation`` is the engine runtime to use
    ('' for the engine's default)."""
    runtime, limits = request.runtime, request.runtime.limits
    uid, gid = runtime.user.split(':')
    # owned by the run's uid:gid (an image's own /tmp keeps its mode over the mount: 755 root in some); scripts run
    # through their interpreter, so noexec too
    tmpfs = f'rw,noexec,nosuid,nodev,size={limits.tmpfs},uid={uid},gid={gid},mode=1777'
    host_config = api.create_host_config(
        network_mode='none',
        read_only=True,
        tmpfs={WORK_DIR: tmpfs, '/tmp': tmpfs},
        cap_drop=['ALL'],
        security_opt=['no-new-privileges:true'],  # and no seccomp option: the engine's default profile applies
        pids_limit=limits.pids + (SENTRY_THREADS if is_gvisor(isolation) else 0),
        mem_limit=limits.memory,
        memswap_limit=limits.memory,
        nano_cpus=int(limits.cpus * 1e9),
        ulimits=[
            Ulimit(name='nofile', soft=limits.nofile, hard=limits.nofile),
            Ulimit(name='fsize', soft=limits.fsize, hard=limits.fsize),
        ],
        ipc_mode='private',
        log_config=LogConfig(type='none'),
        runtime=isolation or None,
    )
    return {
        'image': runtime.image,
        'name': container_name(run_id),
        'entrypoint': ['sh', '-c', BOOTSTRAP, 'berth-sandbox'],
        'command': [str(len(request.script_bytes)), runtime.filename, *runtime.command, *request.arguments],
        'user': runtime.user,
        'working_dir': WORK_DIR,
        'environment': {'HOME': WORK_DIR, 'TMPDIR': '/tmp'},
        'hostname': 'sandbox',
        'labels': {
            SANDBOX_LABEL: '1',
            RUN_LABEL: run_id,
            DEADLINE_LABEL: str(int(now + limits.timeout + START_GRACE)),
        },
        'stdin_open': True,
        'detach': False,  # with stdin_open: StdinOnce, the input ends when the worker closes its side
        'tty': False,
        'network_disabled': True,
        'host_config': host_config,
    }


def is_gvisor(isolation: str) -> bool:
    return 'runsc' in isolation or 'gvisor' in isolation.lower()


def payload(request: RunRequest) -> bytes:
    """What the worker writes to the container's standard input: the script, then the run's input."""
    return request.script_bytes + request.stdin_bytes
