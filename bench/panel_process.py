"""What the panel process holds, counted from /proc (and `ss` for the daemon's end of its sockets): RSS, CPU time,
threads, connections to the Docker socket."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

DOCKER_SOCKET = '/var/run/docker.sock'
PROBE_DIR = Path(__file__).resolve().parent / 'loop_probe'
TICKS = os.sysconf('SC_CLK_TCK')


def rss_mb(pid: int) -> float:
    """Resident memory (``VmRSS``) in MB."""
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (all its threads)."""
    fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime: fields 14 and 15 of the whole line


def threads(pid: int) -> int:
    """Threads of the process: the entries of /proc/<pid>/task."""
    return len(os.listdir(f'/proc/{pid}/task'))


def socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets among the process's open file descriptors."""
    inodes = set()
    for fd in os.listdir(f'/proc/{pid}/fd'):
        try:
            target = os.readlink(f'/proc/{pid}/fd/{fd}')
        except OSError:  # closed meanwhile
            continue
        if target.startswith('socket:['):
            inodes.add(int(target[8:-1]))
    return inodes


def daemon_connections(pid: int, path: str = DOCKER_SOCKET) -> int:
    """Connections the process holds to the daemon's unix socket: the daemon's accepted sockets on ``path`` (as
    `ss -x` lists them, with the inode of their peer) whose peer is one of the process's sockets."""
    listing = subprocess.run(['ss', '-xn'], check=True, capture_output=True, text=True).stdout
    peers = set()
    for line in listing.splitlines()[1:]:
        columns = line.split()
        # Netid State Recv-Q Send-Q Local-Address Port Peer-Address Port
        if len(columns) >= 8 and columns[4] == path and columns[7].isdigit():
            peers.add(int(columns[7]))
    return len(peers & socket_inodes(pid))


@dataclass(kw_only=True, slots=True)
class Holdings:
    """What the process holds at one moment."""

    rss_mb: float
    threads: int
    daemon_connections: int
    open_files: int

    @classmethod
    def of(cls, pid: int) -> Holdings:
        return cls(
            rss_mb=round(rss_mb(pid), 1),
            threads=threads(pid),
            daemon_connections=daemon_connections(pid),
            open_files=len(os.listdir(f'/proc/{pid}/fd')),
        )

    def as_dict(self) -> dict[str, float | int]:
        return {
            'rss_mb': self.rss_mb,
            'threads': self.threads,
            'daemon_connections': self.daemon_connections,
            'open_files': self.open_files,
        }


@dataclass
class UsageSampler:
    """The process's RSS every ``every`` seconds in a thread, and its CPU over the whole window (% of one core)."""

    pid: int
    every: float = 0.5
    rss: list[float] = field(default_factory=list)
    _stopped: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _started: tuple[float, float] = (0.0, 0.0)
    _ended: tuple[float, float] = (0.0, 0.0)

    def start(self) -> UsageSampler:
        self._started = (time.monotonic(), cpu_seconds(self.pid))
        self._thread = threading.Thread(target=self._run, name='bench-usage', daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stopped.wait(self.every):
            self.rss.append(rss_mb(self.pid))

    def stop(self) -> dict[str, float]:
        self._ended = (time.monotonic(), cpu_seconds(self.pid))
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(5)
        seconds = self._ended[0] - self._started[0]
        ordered = sorted(self.rss) or [rss_mb(self.pid)]
        return {
            'seconds': round(seconds, 1),
            'cpu_percent_of_one_core': round((self._ended[1] - self._started[1]) / seconds * 100, 1) if seconds else 0,
            'rss_mb_median': round(ordered[len(ordered) // 2], 1),
            'rss_mb_peak': round(ordered[-1], 1),
        }


def probe_environment(directory: Path | None, part: str) -> dict[str, str]:
    """The panel's environment for the event-loop probe (bench/loop_probe/sitecustomize.py), writing
    ``<directory>/<part>.json``; nothing without a directory."""
    if directory is None:
        return {}
    directory.mkdir(parents=True, exist_ok=True)
    paths = [str(PROBE_DIR), *filter(None, [os.environ.get('PYTHONPATH')])]
    frames = os.environ.get('BERTH_BENCH_TRACEMALLOC', '')  # tracemalloc (this many frames) in the soak's panel
    tracing = {'BERTH_BENCH_TRACEMALLOC': frames} if frames and part == 'soak' else {}
    return {
        'BERTH_BENCH_LOOP_PROBE': str(directory / f'{part}.json'),
        'PYTHONPATH': os.pathsep.join(paths),
        **tracing,
    }


def reset_probe(environment: dict[str, str]) -> None:
    """The probe forgets what it measured so far (within a second): the figures are those of what follows."""
    if 'BERTH_BENCH_LOOP_PROBE' in environment:
        Path(environment['BERTH_BENCH_LOOP_PROBE'] + '.reset').write_text('reset')


def memory_snapshot(environment: dict[str, str], name: str, timeout: float = 120) -> Path | None:
    """With ``BERTH_BENCH_TRACEMALLOC`` in the panel's environment: a tracemalloc snapshot of the panel now (after a
    full collection), as a file; None without."""
    if 'BERTH_BENCH_TRACEMALLOC' not in environment:
        return None
    probe = environment['BERTH_BENCH_LOOP_PROBE']
    done = Path(f'{probe}.{name}.tracemalloc')
    Path(f'{probe}.snap').write_text(name)
    deadline = time.monotonic() + timeout
    while not done.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    return done if done.exists() else None
