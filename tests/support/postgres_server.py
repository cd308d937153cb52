"""A PostgreSQL server of a test's own (its own data directory, port and socket directory), to stop and start at will:
the shared one of scripts/test-env.sh is never touched. Run as the ``postgres`` user (initdb refuses root)."""

from __future__ import annotations

import contextlib
import glob
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from . import free_port

USER = 'postgres'


def postgres_bin(program: str) -> str:
    """The newest installed PostgreSQL's ``program`` (initdb, pg_ctl: not on PATH on Debian)."""
    found = sorted(glob.glob(f'/usr/lib/postgresql/*/bin/{program}'), key=lambda path: int(path.split('/')[4]))
    if not found:
        raise AssertionError(f'no PostgreSQL {program} under /usr/lib/postgresql (scripts/test-env.sh installs it)')
    return found[-1]


class OwnPostgres:
    """``postgres`` on 127.0.0.1:``port``, data under a directory of its own (owned by the postgres user), the role
    ``berth`` trusted on loopback and a database ``berth``; its log is ``ROOT/postgres.log``."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix='berth-postgres-'))
        self.port = free_port()
        self.url = f'postgresql://berth@127.0.0.1:{self.port}/berth'
        shutil.chown(self.root, USER, USER)

    def _as_postgres(self, *arguments: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(['runuser', '-u', USER, '--', *arguments], capture_output=True, check=True, timeout=120)

    def create(self) -> None:
        self._as_postgres(
            postgres_bin('initdb'), '-D', str(self.root / 'data'), '-U', 'berth', '--auth=trust', '--no-sync'
        )
        self.start()
        self._as_postgres(
            'psql',
            '-h',
            '127.0.0.1',
            '-p',
            str(self.port),
            '-U',
            'berth',
            '-d',
            'postgres',
            '-qc',
            'CREATE DATABASE berth',
        )

    def start(self) -> None:
        options = f'-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off'
        self._as_postgres(
            postgres_bin('pg_ctl'), '-D', str(self.root / 'data'), '-l', str(self.root / 'postgres.log'),
            '-o', options, '-w', 'start',
        )  # fmt: skip

    def stop(self, mode: str = 'fast') -> None:
        """``fast``: the server ends every session and stops, as a restart by a service manager does."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._as_postgres(postgres_bin('pg_ctl'), '-D', str(self.root / 'data'), '-m', mode, '-w', 'stop')

    def log(self) -> str:
        try:
            return (self.root / 'postgres.log').read_text(errors='replace')
        except OSError:
            return '(no log)'

    def remove(self) -> None:
        self.stop('immediate')
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def started_postgres() -> Iterator[OwnPostgres]:
    """A started server with the database ``berth``; afterwards it is stopped and its directory gone."""
    server = OwnPostgres()
    try:
        server.create()
        yield server
    finally:
        server.remove()
