"""What one sandbox run may use: the defaults every runtime starts from, and the hard ceilings nobody goes past.

An admin sets a runtime's limits (the admin page or ``runtimes.yaml``): tighter than the defaults, or looser up to the
ceilings; a value beyond a ceiling is refused with a sentence, never clamped in silence. People who run scripts set
no limits at all: a run gets its runtime's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from core.commands.spec_form import parse_memory
from core.errors import clip

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB


@dataclass(kw_only=True, slots=True, frozen=True)
class Limits:
    """One run's limits. Sizes are bytes; ``timeout`` is seconds of wall clock from the container's start."""

    timeout: float = 10.0  # the worker kills the run after this long
    memory: int = 128 * MIB  # memory, and memory+swap: no swap at all
    cpus: float = 1.0
    pids: int = 64  # processes and threads at once
    output: int = 1 * MIB  # stdout and stderr together; the run is killed beyond it
    tmpfs: int = 16 * MIB  # the work directory /sandbox, and /tmp, each
    nofile: int = 256  # open files (ulimit -n)
    fsize: int = 16 * MIB  # the largest file a run may write (ulimit -f)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, base: Limits | None = None) -> Limits:
        """The limits ``data`` names (the others from ``base``, else the defaults); raises :class:`LimitError` with a
        sentence per key that is unknown, unreadable, below its floor or above its ceiling."""
        base = base or DEFAULT_LIMITS
        errors: dict[str, str] = {}
        values = asdict(base)
        unknown = sorted(set(map(str, data)) - set(values))
        if unknown:
            errors['limits'] = f'unknown: {clip(", ".join(unknown))} (known: {", ".join(values)})'
        for key, raw in data.items():
            if key not in values or raw in (None, ''):
                continue
            try:
                values[key] = _PARSERS[key](raw)
            except (ValueError, TypeError) as error:
                errors[key] = str(error)
        limits = cls(**values)
        errors = {**limits.problems(), **errors}
        if errors:
            raise LimitError(errors)
        return limits

    def problems(self) -> dict[str, str]:
        """A sentence per limit below its floor or above its hard ceiling."""
        problems = {}
        for item in fields(self):
            value, floor, ceiling = getattr(self, item.name), getattr(FLOORS, item.name), getattr(CEILINGS, item.name)
            if not math.isfinite(value) or value < floor:
                problems[item.name] = f'must be at least {describe(item.name, floor)}'
            elif value > ceiling:
                problems[item.name] = f'can be at most {describe(item.name, ceiling)} (a hard ceiling)'
        return problems

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """'10 s, 128 MiB, 1 CPU, 64 processes, 1 MiB of output'."""
        cpus = f'{self.cpus:g} CPU' + ('' if self.cpus == 1 else 's')
        return (
            f'{self.timeout:g} s, {describe("memory", self.memory)}, {cpus}, {self.pids} processes, '
            f'{describe("output", self.output)} of output'
        )


class LimitError(ValueError):
    """Limits an admin has to correct: key → a sentence."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__('; '.join(f'{key}: {message}' for key, message in errors.items()))
        self.errors = errors


def describe(key: str, value: float) -> str:
    """A limit's value for people: sizes in KiB/MiB/GiB, seconds, counts."""
    if key in SIZES:
        for unit, size in (('GiB', GIB), ('MiB', MIB), ('KiB', KIB)):
            if value >= size:
                return f'{value / size:g} {unit}'
        return f'{value:g} bytes'
    if key == 'timeout':
        return f'{value:g} s'
    if key == 'cpus':
        return f'{value:g} CPUs'
    return f'{value:g}'


def size_text(value: int) -> str:
    """A size as the runtimes form and runtimes.yaml write it: '128m', '1g', '64k', '1000'."""
    for unit, size in (('g', GIB), ('m', MIB), ('k', KIB)):
        if value >= size and value % size == 0:
            return f'{value // size}{unit}'
    return str(value)


def _size(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"'{value}' is not a size")
    return parse_memory(str(value))  # a bare number is bytes


def _seconds(value: Any) -> float:
    text = str(value).strip().lower()
    factor = 60.0 if text.endswith('m') else 1.0
    return _number(text.removesuffix('s').removesuffix('m'), f"'{clip(value)}' is not a number of seconds") * factor


def _count(value: Any) -> int:
    number = _number(value, f"'{clip(value)}' is not a whole number")
    if number != int(number):
        raise ValueError(f"'{clip(value)}' is not a whole number")
    return int(number)


def _cpus(value: Any) -> float:
    return _number(value, f"'{clip(value)}' is not a number of CPUs")


def _number(value: Any, sentence: str) -> float:
    """A finite number from YAML or a form (a number, or text holding one); ``sentence`` for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(sentence)
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise ValueError(sentence) from None
    if not math.isfinite(number):
        raise ValueError(sentence)
    return number


SIZES = ('memory', 'output', 'tmpfs', 'fsize')
_PARSERS = {
    'timeout': _seconds,
    'memory': _size,
    'cpus': _cpus,
    'pids': _count,
    'output': _size,
    'tmpfs': _size,
    'nofile': _count,
    'fsize': _size,
}
DEFAULT_LIMITS = Limits()
# Below these a run cannot even start (the bootstrap writes the script into the work directory)
FLOORS = Limits(timeout=1, memory=6 * MIB, cpus=0.01, pids=8, output=1 * KIB, tmpfs=1 * MIB, nofile=16, fsize=64 * KIB)
# What no runtime may exceed, whoever configures it
CEILINGS = Limits(
    timeout=300, memory=2 * GIB, cpus=4, pids=1024, output=16 * MIB, tmpfs=512 * MIB, nofile=4096, fsize=512 * MIB
)
# For the documentation and the admin page: what each key means
DOCUMENTATION = {
    'timeout': 'seconds of wall clock from the start; the run is killed then ("time limit")',
    'memory': 'memory, swap included (memory+swap is the same); the run is killed beyond it ("memory limit")',
    'cpus': 'CPUs the run may use (0.5: half of one)',
    'pids': 'processes and threads at once (a fork bomb stops there)',
    'output': 'stdout and stderr together; the run is killed beyond it ("output limit")',
    'tmpfs': 'the size of the work directory /sandbox and of /tmp (each, in memory)',
    'nofile': 'open files at once',
    'fsize': 'the largest file a run may write',
}
