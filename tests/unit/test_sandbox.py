"""The sandbox without an engine: runtimes and their limits (hard ceilings, sentences), runtimes.yaml, the container
body every run gets, the run line (global and per-person limits, places in line), the output kept, what the page
shows of control characters."""

from __future__ import annotations

import asyncio
from pathlib import Path

import docker
import pytest

from components.run_output import visible
from core.commands.spec import SpecError
from core.sandbox.container import BOOTSTRAP, DEADLINE_LABEL, SANDBOX_LABEL, create_arguments, payload
from core.sandbox.limits import CEILINGS, DEFAULT_LIMITS, MIB, LimitError, Limits
from core.sandbox.line import RunLine
from core.sandbox.run import RunRefused, RunRequest, RunResult, StopReason, parse_arguments
from core.sandbox.runs import RunOutput
from core.sandbox.runtimes import Runtime, Runtimes
from core.storage.sqlite import SQLiteDatabase

PYTHON = {'name': 'python', 'image': 'python:3.11-slim', 'command': 'python3 /sandbox/main.py', 'filename': 'main.py'}


def test_limits_are_read_with_units_and_refused_beyond_a_hard_ceiling() -> None:
    limits = Limits.from_mapping({'timeout': '2m', 'memory': '256m', 'cpus': 0.5, 'output': '64k', 'pids': 100})
    assert (limits.timeout, limits.memory, limits.cpus, limits.output, limits.pids) == (120, 256 * MIB, 0.5, 65536, 100)
    assert limits.nofile == DEFAULT_LIMITS.nofile  # what is not named keeps its default
    with pytest.raises(LimitError) as refused:
        Limits.from_mapping({'timeout': 3600, 'memory': '64g', 'pids': 2, 'network': 'on', 'cpus': 'many'})
    assert refused.value.errors == {
        'timeout': 'can be at most 300 s (a hard ceiling)',
        'memory': 'can be at most 2 GiB (a hard ceiling)',
        'pids': 'must be at least 8',
        'limits': 'unknown: network (known: timeout, memory, cpus, pids, output, tmpfs, nofile, fsize)',
        'cpus': "'many' is not a number of CPUs",
    }
    assert not CEILINGS.problems() and not DEFAULT_LIMITS.problems()


def test_a_runtime_says_what_is_wrong_field_by_field_and_never_runs_as_root() -> None:
    runtime = Runtime.from_mapping({**PYTHON, 'limits': {'timeout': 5}})
    assert runtime.command == ['python3', '/sandbox/main.py'] and runtime.user == '65534:65534'
    assert runtime.limits.timeout == 5 and runtime.refusals() == []
    assert Runtime.from_dict(runtime.to_dict()) == runtime
    with pytest.raises(SpecError) as wrong:
        Runtime.from_mapping({**PYTHON, 'filename': '../etc/passwd', 'user': '0:0', 'image': 'Not An Image'})
    assert set(wrong.value.errors) == {'filename', 'user', 'image'}
    assert wrong.value.errors['user'] == 'runs never run as root: choose a uid and gid other than 0'
    with pytest.raises(SpecError, match='missing command, filename'):
        Runtime.from_mapping({'name': 'x1', 'image': 'busybox'})
    with pytest.raises(SpecError, match='unknown fields: network'):
        Runtime.from_mapping({**PYTHON, 'network': 'bridge'})


def test_runtimes_yaml_seeds_the_runtimes_and_says_which_it_skipped(tmp_path: Path) -> None:
    path = tmp_path / 'runtimes.yaml'
    path.write_text(
        '- {name: python, image: "python:3.11-slim", command: python3 /sandbox/main.py, filename: main.py, '
        'limits: {timeout: 20, memory: 256m}}\n'
        '- {name: bad, image: busybox, command: sh /sandbox/x.sh, filename: x.sh, limits: {timeout: 9999}}\n'
        '- just a string\n'
    )
    runtimes = Runtimes(SQLiteDatabase(tmp_path / 'berth.sqlite3'))
    problems = runtimes.seed(path)
    assert problems == [
        'runtimes.yaml, runtime bad: timeout: can be at most 300 s (a hard ceiling)',
        'runtimes.yaml, runtime 3: not a mapping',
    ]
    python = runtimes.get('python')
    assert python is not None and python.source == 'file' and python.limits.memory == 256 * MIB
    assert [runtime.name for runtime in runtimes.all()] == ['python']


def request(script: str = 'print(1)', **limits: object) -> RunRequest:
    runtime = Runtime.from_mapping({**PYTHON, 'limits': limits})
    return RunRequest(runtime=runtime, script=script, stdin='in', arguments=['a b'], owner='local:dana', username='d')


def test_every_run_gets_the_locked_down_body_whatever_it_asks_for() -> None:
    api = docker.APIClient(base_url='unix:///nonexistent.sock', version='1.41')  # builds arguments, connects to nothing
    arguments = create_arguments(api, request(memory='64m', pids=32), run_id='f' * 32, isolation='', now=1000.0)
    host = arguments['host_config']
    assert host['NetworkMode'] == 'none' and arguments['network_disabled'] is True
    assert host['ReadonlyRootfs'] is True
    assert host['CapDrop'] == ['ALL'] and not host.get('CapAdd') and not host.get('Privileged')
    assert host['SecurityOpt'] == ['no-new-privileges:true']  # and no seccomp option: the default profile
    assert host['PidsLimit'] == 32
    assert host['Memory'] == host['MemorySwap'] == 64 * MIB
    assert host['NanoCpus'] == 1_000_000_000
    assert {limit['Name']: limit['Hard'] for limit in host['Ulimits']} == {'nofile': 256, 'fsize': 16 * MIB}
    for path in ('/sandbox', '/tmp'):
        options = host['Tmpfs'][path].split(',')
        assert {'noexec', 'nosuid', 'nodev', f'size={16 * MIB}', 'uid=65534', 'gid=65534'} <= set(options)
    assert not host.get('Binds') and not host.get('Mounts')  # the script comes on stdin, never from the host
    assert host['LogConfig'] == {'Type': 'none', 'Config': {}}
    assert 'Runtime' not in host  # the engine's default: runc
    assert arguments['user'] == '65534:65534'
    assert arguments['labels'] == {SANDBOX_LABEL: '1', 'berth.sandbox.run': 'f' * 32, DEADLINE_LABEL: '1025'}
    assert arguments['entrypoint'] == ['sh', '-c', BOOTSTRAP, 'berth-sandbox']
    assert arguments['command'] == ['8', 'main.py', 'python3', '/sandbox/main.py', 'a b']
    assert payload(request()) == b'print(1)in'
    gvisor = create_arguments(api, request(pids=32), run_id='f' * 32, isolation='runsc', now=1000.0)
    assert gvisor['host_config']['Runtime'] == 'runsc' and gvisor['host_config']['PidsLimit'] == 32 + 64


def test_a_request_is_refused_with_a_sentence_when_out_of_bounds() -> None:
    with pytest.raises(RunRefused, match='the script is empty'):
        request('  \n').check(script_max=1024, stdin_max=1024)
    with pytest.raises(RunRefused, match='the script is 2 KiB; it can be at most 1 KiB'):
        request('x' * 2048).check(script_max=1024, stdin_max=1024)
    with pytest.raises(RunRefused, match='together can be at most 1 MiB in the runtime python'):
        request('x' * (MIB + 1), tmpfs='1m').check(script_max=4 * MIB, stdin_max=1024)
    with pytest.raises(RunRefused, match='close every quote'):
        parse_arguments('one "two')
    assert parse_arguments('one "two words" \'three\'') == ['one', 'two words', 'three']


def test_a_result_says_how_the_run_ended() -> None:
    assert RunResult(exit_code=0, duration=0.25, isolation='runc').status() == (
        'Finished: exited with code 0 · 0.25 s · peak memory — · CPU — · isolated by runc'
    )
    stopped = RunResult(exit_code=137, stopped=StopReason.TIME_LIMIT.value, limit='10 s', peak_memory=3 * MIB)
    assert stopped.status().startswith('Stopped: time limit (10 s) · peak memory 3 MiB')
    assert not stopped.succeeded
    cancelled = RunResult(stopped=StopReason.CANCELLED.value, stopped_by='olga')
    assert cancelled.headline() == 'stopped: cancelled by olga'
    held = RunResult(exit_code=137, peak_processes=63, process_limit=64)
    assert 'held at the process limit (64)' in held.summary()
    assert RunResult(error='no such image').status() == 'Failed: could not run: no such image'


async def test_the_line_keeps_the_global_and_per_person_limits_in_order() -> None:
    sent: list[str] = []

    def sender(run_id: str):  # type: ignore[no-untyped-def]
        async def send() -> None:
            sent.append(run_id)

        return send

    line = RunLine(total=2, per_user=1)
    for run_id, owner in (('a1', 'ann'), ('a2', 'ann'), ('b1', 'bob'), ('c1', 'cid'), ('a3', 'ann')):
        line.join(run_id, owner, sender(run_id))
    await asyncio.sleep(0)
    # ann's second waits for her first; bob's starts past it; cid's waits for a free slot
    assert sent == ['a1', 'b1']
    assert [line.position(run_id) for run_id in ('a2', 'c1', 'a3')] == [1, 2, 3]
    assert line.why_waiting('a2') == '1st in line: your other runs are running (at most 1 of yours at once)'
    assert line.why_waiting('c1') == '2nd in line: 2 runs are running (at most 2 at once)'
    # When bob's ends, the first that may start does: ann's second still may not, cid's may
    line.leave('b1')
    await asyncio.sleep(0)
    assert sent == ['a1', 'b1', 'c1'] and line.position('a2') == 1
    # A run withdrawn while waiting never starts
    assert line.leave('a3') is True and line.position('a3') is None
    line.leave('a1')
    await asyncio.sleep(0)
    assert sent == ['a1', 'b1', 'c1', 'a2'] and line.waiting == []


def test_the_output_kept_is_bounded_and_keeps_the_streams_apart() -> None:
    output = RunOutput(limit=10)
    assert output.extend([('stdout', 'hello '), ('stdout', 'wor'), ('stderr', 'oops!')]) == [
        ('stdout', 'hello '),
        ('stdout', 'wor'),
        ('stderr', 'o'),
    ]
    assert output.segments == [['stdout', 'hello wor'], ['stderr', 'o']] and output.dropped == 4
    assert RunOutput.from_json(output.to_json()).segments == output.segments


def test_control_characters_are_shown_never_interpreted() -> None:
    assert visible('\x1b[31mred\x1b[0m\r\nnext\ttab\x07\x00\x7f\rover') == '␛[31mred␛[0m\nnext\ttab␇␀␡␍over'
