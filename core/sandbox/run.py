"""One sandbox run as the panel checks it and the worker receives it (:class:`RunRequest`), and how it ended
(:class:`RunResult`, :class:`StopReason`): the words the status line, the history, the job centre and the audit use."""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any

from core.commands.spec import SpecError
from core.sandbox.limits import describe
from core.sandbox.runtimes import Runtime

MAX_ARGUMENTS = 64
MAX_ARGUMENT_CHARS = 4096


class StopReason(StrEnum):
    """Why a run was stopped before it ended by itself."""

    TIME_LIMIT = 'time limit'
    MEMORY_LIMIT = 'memory limit'
    OUTPUT_LIMIT = 'output limit'
    CANCELLED = 'cancelled'


class RunRefused(ValueError):
    """What the person asked for cannot run; the message is a sentence for them."""


@dataclass(kw_only=True, slots=True, frozen=True)
class RunRequest:
    """What runs: the runtime as the panel checked it, the script, its input and arguments, whose run it is, and the
    engine runtime that isolates it ('' for the engine's default)."""

    runtime: Runtime
    script: str
    stdin: str = ''
    arguments: list[str] = field(default_factory=list)
    owner: str  # the stable id of whoever asked (a run's scope owner)
    username: str
    isolation: str = ''  # BERTH_SANDBOX_RUNTIME, e.g. runsc

    @property
    def script_bytes(self) -> bytes:
        return self.script.encode('utf-8', errors='surrogateescape')

    @property
    def stdin_bytes(self) -> bytes:
        return self.stdin.encode('utf-8', errors='surrogateescape')

    @property
    def script_sha256(self) -> str:
        return hashlib.sha256(self.script_bytes).hexdigest()

    def check(self, *, script_max: int, stdin_max: int) -> None:
        """Raises :class:`RunRefused` with a sentence when the script, input or arguments are out of bounds."""
        script, stdin, limits = len(self.script_bytes), len(self.stdin_bytes), self.runtime.limits
        room = min(limits.tmpfs, limits.fsize)
        if not self.script.strip():
            raise RunRefused('the script is empty: write or upload one')
        if script > script_max:
            raise RunRefused(f'the script is {size(script)}; it can be at most {size(script_max)}')
        if stdin > stdin_max:
            raise RunRefused(f'the input is {size(stdin)}; it can be at most {size(stdin_max)}')
        if script + stdin > room:
            raise RunRefused(
                f'the script and its input together can be at most {size(room)} in the runtime {self.runtime.name}'
            )
        if len(self.arguments) > MAX_ARGUMENTS:
            raise RunRefused(f'at most {MAX_ARGUMENTS} arguments')
        if any(len(argument) > MAX_ARGUMENT_CHARS or '\x00' in argument for argument in self.arguments):
            raise RunRefused(f'an argument can be at most {MAX_ARGUMENT_CHARS} characters, without NUL characters')

    def to_dict(self) -> dict[str, Any]:
        return {
            'runtime': self.runtime.to_dict(),
            'script': self.script,
            'stdin': self.stdin,
            'arguments': list(self.arguments),
            'owner': self.owner,
            'username': self.username,
            'isolation': self.isolation,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunRequest:
        """From a signed job message; raises :class:`RunRefused` for anything malformed."""
        try:
            runtime = Runtime.from_dict(data['runtime'])
            return cls(
                runtime=runtime,
                script=str(data['script']),
                stdin=str(data.get('stdin') or ''),
                arguments=[str(argument) for argument in data.get('arguments') or []],
                owner=str(data['owner']),
                username=str(data.get('username') or ''),
                isolation=str(data.get('isolation') or ''),
            )
        except (KeyError, TypeError, SpecError) as error:
            raise RunRefused(f'the run request is malformed: {error}') from None


def size(count: int) -> str:
    return describe('output', count)


def parse_arguments(text: str) -> list[str]:
    """The arguments field as a shell would split it; raises :class:`RunRefused` for unbalanced quotes."""
    try:
        return shlex.split(text or '')
    except ValueError as error:
        raise RunRefused(f'the arguments cannot be read: {error} (close every quote)') from None


@dataclass(kw_only=True, slots=True)
class RunResult:
    """How a run ended, as the worker saw it. Figures the engine could not give are None (a run shorter than the
    engine's first statistics sample has no peak memory or CPU time)."""

    exit_code: int | None = None
    duration: float | None = None  # seconds from the container's start to its end (the engine's clock)
    peak_memory: int | None = None  # bytes
    cpu_seconds: float | None = None
    peak_processes: int | None = None
    process_limit: int = 0
    stopped: str = ''  # a StopReason value, or ''
    stopped_by: str = ''  # who cancelled it
    limit: str = ''  # the limit that stopped it, for people: '10 s', '128 MiB'
    isolation: str = ''  # the engine runtime that isolated it: runc, runsc, ...
    output_bytes: int = 0
    error: str = ''  # the run could not happen (no such image, engine unreachable): the sentence

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunResult:
        known = {item.name for item in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0 and not self.stopped and not self.error

    @property
    def held_by_process_limit(self) -> bool:
        """Whether the run filled its process limit (the last slot is the one a refused fork asked from)."""
        return bool(self.process_limit and self.peak_processes and self.peak_processes >= self.process_limit - 1)

    def headline(self) -> str:
        """'exited with code 0', 'stopped: time limit (10 s)', 'stopped: cancelled by olga', 'could not run: …'."""
        if self.error:
            return f'could not run: {self.error}'
        if self.stopped:
            return f'stopped: {self.reason()}'
        return f'exited with code {self.exit_code}'

    def reason(self) -> str:
        """Why it was stopped: 'time limit (10 s)', 'cancelled by olga'; '' when it was not."""
        if self.stopped == StopReason.CANCELLED:
            return f'cancelled by {self.stopped_by}' if self.stopped_by else 'cancelled'
        return self.stopped + (f' ({self.limit})' if self.limit and self.stopped else '')

    def facts(self) -> list[str]:
        """The figures after the headline: duration, peak memory, CPU time, processes, isolation."""
        facts = []
        if self.duration is not None:
            facts.append(f'{self.duration:.2f} s')
        facts.append(f'peak memory {describe("memory", self.peak_memory)}' if self.peak_memory else 'peak memory —')
        facts.append(f'CPU {self.cpu_seconds:.2f} s' if self.cpu_seconds is not None else 'CPU —')
        if self.held_by_process_limit:
            facts.append(f'held at the process limit ({self.process_limit})')
        if self.isolation:
            facts.append(f'isolated by {self.isolation}')
        return facts

    def summary(self) -> str:
        return ' · '.join([self.headline(), *self.facts()])

    def status(self) -> str:
        """The status line of a run that ended: 'Finished: exited with code 0 · …', 'Stopped: time limit (10 s) · …',
        'Failed: could not run: …'."""
        if self.error:
            return f'Failed: {self.headline()}'
        if self.stopped:
            return ' · '.join([f'Stopped: {self.reason()}', *self.facts()])
        return f'Finished: {self.summary()}'
