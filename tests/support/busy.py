"""A busybox container spinning a shell loop, for the stats tests and bench: its CPU figure is never zero."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from . import BUSYBOX

BUSY_LOOP = 'while :; do :; done'


@contextmanager
def busy_container(name: str, *, cpus: str = '0.25', label: str = 'berth-test=1') -> Iterator[str]:
    """Runs the loop under ``name`` (held to ``cpus`` of a CPU: the machine is shared) and removes it afterwards."""
    subprocess.run(
        ['docker', 'run', '-d', '--name', name, '--label', label, '--cpus', cpus, BUSYBOX, 'sh', '-c', BUSY_LOOP],
        check=True,
        capture_output=True,
    )
    try:
        yield name
    finally:
        subprocess.run(['docker', 'rm', '-f', name], capture_output=True, check=False)
