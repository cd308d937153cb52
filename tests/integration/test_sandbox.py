"""Sandbox runs against a real engine, as the worker runs them: every test twice, once with plain runc on the host's
engine and once with gVisor (runsc), registered by the test on an engine of its own (the host's is never
reconfigured). What a script may not do — reach the network, write outside its work directory, run as root, fork
without end, eat memory, loop forever, print without end — it cannot, and the run says why it was stopped; no
container is ever left behind."""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from core.docker.endpoints import Endpoint
from core.jobs.store import JobStatus
from core.operations.sandbox import sandbox_run
from core.sandbox.run import RunRequest, RunResult
from core.sandbox.runtimes import Runtime
from tests.support import BUSYBOX
from tests.support.engine import GVISOR, started_engine

OWNER = 'local:dana'
IMAGE = 'bt-sbx-busybox:scratch'  # busybox with a world-writable /scratch: only a read-only root keeps a run out


@dataclass
class Isolation:
    name: str  # the engine runtime runs ask for ('' the engine's default) and report
    url: str | None  # the engine

    def containers(self, run_id: str = '') -> list[str]:
        """The sandbox containers on this engine (of one run: the host's engine is shared with other test runs)."""
        host = ['-H', self.url] if self.url else []
        label = f'berth.sandbox.run={run_id}' if run_id else 'berth.sandbox=1'
        command = ['docker', *host, 'ps', '-aq', '--filter', f'label={label}']
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()


@pytest.fixture(scope='module')
def image() -> Iterator[str]:
    dockerfile = f'FROM {BUSYBOX}\nRUN mkdir -m 1777 /scratch\n'
    subprocess.run(
        ['docker', 'build', '-q', '-t', IMAGE, '-'], input=dockerfile.encode(), check=True, capture_output=True
    )
    yield IMAGE
    subprocess.run(['docker', 'rmi', IMAGE], capture_output=True)


@pytest.fixture(scope='module', params=['runc', 'runsc'])
def isolation(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, image: str
) -> Iterator[Isolation]:
    if request.param == 'runc':
        yield Isolation(name='', url=None)
        return
    root = tmp_path_factory.mktemp('gvisor')
    with started_engine(root, 'btsbx0', address='172.31.252.1/24', config=GVISOR, images=(image,)) as engine:
        yield Isolation(name='runsc', url=engine.url)


@pytest.fixture(autouse=True)
def removed_afterwards(isolation: Isolation) -> Iterator[None]:
    """Whatever a failing test left on the engine goes (a passing one leaves nothing: ``run`` checks)."""
    yield
    left = isolation.containers()
    if left:
        host = ['-H', isolation.url] if isolation.url else []
        subprocess.run(['docker', *host, 'rm', '-f', *left], capture_output=True)


@dataclass
class Recorder:
    """A JobReporter's stand-in: every update the run publishes."""

    updates: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def publish(self, status: str, message: str = '', progress: float | None = None, **extra: Any) -> None:
        self.updates.append((status, message, extra.get('detail') or {}))

    @property
    def segments(self) -> list[tuple[str, str]]:
        return [(stream, text) for status, _, detail in self.updates for stream, text in detail.get('output', [])]

    def text(self, stream: str | None = None) -> str:
        return ''.join(text for name, text in self.segments if stream in (None, name))

    @property
    def end(self) -> tuple[str, RunResult]:
        status, _, detail = self.updates[-1]
        return status, RunResult.from_dict(detail['result'])


def run(
    isolation: Isolation,
    script: str,
    *,
    stdin: str = '',
    arguments: tuple[str, ...] = (),
    cancelled: Callable[[], str] = lambda: '',
    **limits: Any,
) -> Recorder:
    """Runs ``script`` (sh, in busybox) to its end; afterwards no sandbox container is left on the engine."""
    runtime = Runtime.from_mapping(
        {'name': 'bt-sh', 'image': IMAGE, 'command': 'sh /sandbox/main.sh', 'filename': 'main.sh', 'limits': limits}
    )
    request = RunRequest(
        runtime=runtime,
        script=script,
        stdin=stdin,
        arguments=list(arguments),
        owner=OWNER,
        username='dana',
        isolation=isolation.name,
    )
    recorder = Recorder()
    endpoint = Endpoint(id='local', name='local', url=isolation.url)
    params = {'request': request.to_dict(), 'requester': OWNER}
    run_id = uuid.uuid4().hex
    worker = threading.Thread(
        target=sandbox_run,
        args=(endpoint, recorder, run_id, params, 'developer', cancelled),
        daemon=True,
    )
    worker.start()
    worker.join(runtime.limits.timeout + 30)
    assert not worker.is_alive(), 'the run did not end'
    assert isolation.containers(run_id) == [], 'a sandbox container was left behind'
    return recorder


def test_hello_world_with_stdin_and_arguments(isolation: Isolation) -> None:
    recorder = run(
        isolation, 'echo "hello $1"; echo "[$2]"; cat; echo oops >&2', stdin='a\nb\n', arguments=('world', 'two words')
    )
    status, result = recorder.end
    assert status == JobStatus.SUCCEEDED and result.exit_code == 0 and not result.stopped
    assert recorder.text('stdout') == 'hello world\n[two words]\na\nb\n'
    assert recorder.text('stderr') == 'oops\n'
    assert result.isolation == (isolation.name or 'runc')
    assert result.duration is not None and result.output_bytes == len('hello world\n[two words]\na\nb\noops\n')


def test_gvisor_runs_are_isolated_by_its_own_kernel(isolation: Isolation) -> None:
    recorder = run(isolation, 'uname -r')
    kernel = subprocess.run(['uname', '-r'], capture_output=True, text=True, check=True).stdout
    assert (recorder.text() == '4.4.0\n') == (isolation.name == 'runsc'), recorder.text()
    assert (recorder.text() == kernel) == (isolation.name != 'runsc')


def test_unicode_and_binary_output(isolation: Isolation) -> None:
    recorder = run(
        isolation, "printf 'żółw 🐢\\n'; printf '\\377\\376\\000\\033[31m\\n' >&2; head -c 4096 /dev/urandom"
    )
    status, result = recorder.end
    assert status == JobStatus.SUCCEEDED
    assert recorder.text('stdout').startswith('żółw 🐢\n')
    assert recorder.text('stderr') == '\ufffd\ufffd\x00\x1b[31m\n'  # invalid bytes replaced, the rest kept as it is
    assert result.output_bytes == len('żółw 🐢\n'.encode()) + 9 + 4096


def test_the_script_is_not_root_and_cannot_write_outside_its_work_directory(isolation: Isolation) -> None:
    recorder = run(
        isolation,
        'id -u; id -g; grep CapEff /proc/self/status; grep CapBnd /proc/self/status; '
        'touch /scratch/x || echo "no /scratch"; touch /etc/x || echo "no /etc"; '
        'touch /sandbox/mine && echo "work dir ok"; touch /tmp/mine && echo "tmp ok"; '
        'head -c 2000000 /dev/zero > /sandbox/big || echo "work dir full"',
        tmpfs='1m',
    )
    lines = recorder.text('stdout').splitlines()
    assert lines[:2] == ['65534', '65534']
    assert lines[2].split() == ['CapEff:', '0000000000000000']
    assert lines[3].split() == ['CapBnd:', '0000000000000000']  # nothing to regain, even through a setuid binary
    # /scratch is world-writable in the image: only the read-only root keeps the script out of it
    assert lines[4:] == ['no /scratch', 'no /etc', 'work dir ok', 'tmp ok', 'work dir full']


def test_the_network_is_unreachable(isolation: Isolation) -> None:
    recorder = run(
        isolation, 'ls /sys/class/net; wget -q -T 2 -O - http://1.1.1.1/ && echo REACHED; echo done', timeout=20
    )
    assert 'REACHED' not in recorder.text() and recorder.text('stdout').endswith('done\n')
    interfaces = recorder.text('stdout').split()[:-1]
    assert interfaces in ([], ['lo']), interfaces


def test_a_fork_bomb_is_held_by_the_process_limit_and_reported(isolation: Isolation) -> None:
    # it forks processes that stay until it cannot (busybox's sh gives up at the first refused fork): the run fills its
    # process limit and is held there
    bomb = '(while :; do sleep 60 & done) 2>/dev/null; echo held; while :; do :; done'
    recorder = run(isolation, bomb, pids=24, timeout=4)
    status, result = recorder.end
    assert status == JobStatus.FAILED
    if isolation.name == 'runsc':
        # gVisor's own kernel (Debian's runsc, ptrace platform) cannot start more threads at the limit: the bomb ends
        # its sandbox, and with it the run, well within the time limit
        assert result.exit_code not in (0, None) and not result.stopped, result
    else:
        assert result.stopped == 'time limit' and result.held_by_process_limit, result
        assert 'held at the process limit (24)' in result.summary()
        assert recorder.text() == 'held\n'
    after = run(isolation, 'echo the engine is fine')
    assert after.text() == 'the engine is fine\n'


def test_a_memory_hog_is_killed_and_reported_as_out_of_memory(isolation: Isolation) -> None:
    recorder = run(isolation, 'echo start; tail /dev/zero', memory='32m', timeout=30)
    status, result = recorder.end
    assert status == JobStatus.FAILED
    assert result.stopped == 'memory limit' and result.limit == '32 MiB', result
    assert result.headline() == 'stopped: memory limit (32 MiB)'


def test_an_endless_loop_is_stopped_at_the_time_limit(isolation: Isolation) -> None:
    recorder = run(isolation, 'echo looping; while :; do :; done', timeout=2)
    status, result = recorder.end
    assert status == JobStatus.FAILED and result.stopped == 'time limit' and result.limit == '2 s'
    assert result.duration is not None and result.duration >= 2
    assert recorder.text() == 'looping\n'


def test_printing_a_gigabyte_is_stopped_at_the_output_cap(isolation: Isolation) -> None:
    recorder = run(isolation, 'head -c 1073741824 /dev/zero | tr "\\0" x', output='64k', timeout=60)
    status, result = recorder.end
    assert status == JobStatus.FAILED and result.stopped == 'output limit' and result.limit == '64 KiB'
    assert result.output_bytes == 64 * 1024 and recorder.text() == 'x' * 64 * 1024


def test_a_cancelled_run_is_stopped_and_says_by_whom(isolation: Isolation) -> None:
    asked = threading.Event()
    started = time.monotonic()

    def cancelled() -> str:
        if time.monotonic() - started > 1:
            asked.set()
            return 'olga'
        return ''

    recorder = run(isolation, 'echo started; sleep 60', cancelled=cancelled, timeout=60)
    status, result = recorder.end
    assert asked.is_set() and status == JobStatus.FAILED
    assert result.stopped == 'cancelled' and result.headline() == 'stopped: cancelled by olga'
    assert recorder.text() == 'started\n'


def test_a_missing_runtime_is_refused_never_run_less_isolated(isolation: Isolation, tmp_path: Path) -> None:
    recorder = run(Isolation(name='bt-no-such-runtime', url=isolation.url), 'echo never')
    status, result = recorder.end
    assert status == JobStatus.FAILED and result.error.startswith('the engine has no runtime bt-no-such-runtime')
    assert recorder.text() == ''
