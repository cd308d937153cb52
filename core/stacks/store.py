"""Stacks as files: ``BERTH_DATA_DIR/stacks/<name>/compose.yaml`` and ``.env``, and a version of both saved at every
deploy (``versions/<number>/``, with who, when and an optional message in ``version.json``). A stack belongs to one
Docker endpoint, named in ``stack.json`` (a stack without one is ``local``'s: stacks from before several hosts).

Blocking file work: the panel calls it off the event loop. A name is a compose project name (lower-case letters,
digits, ``-`` and ``_``), so it can never climb out of the directory.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

import yaml

from core.errors import clip
from core.permissions import LOCAL_ENDPOINT
from core.stacks.env_file import mask_env

COMPOSE_FILE = 'compose.yaml'
ENV_FILE = '.env'
VERSIONS = 'versions'
META = 'version.json'
STACK_META = 'stack.json'  # the stack's own facts: its endpoint
NAME = re.compile(r'[a-z0-9][a-z0-9_-]{0,62}')
MAX_COMPOSE = 256 * 1024
MAX_ENV = 64 * 1024


class StackError(ValueError):
    """Bad input or a missing stack; the message is a sentence."""


def check_name(name: str) -> str:
    """The name when it is a valid compose project name; raises :class:`StackError` with a sentence otherwise."""
    if not NAME.fullmatch(name or ''):
        raise StackError(
            f"'{clip(name)}' is not a valid stack name: use lower-case letters, digits, '-' and '_', starting with "
            'a letter or digit (at most 63 characters)'
        )
    return name


@dataclass(kw_only=True, slots=True, frozen=True)
class StackFiles:
    compose: str
    env: str = ''

    def check(self) -> None:
        if not self.compose.strip():
            raise StackError('compose.yaml is empty')
        if len(self.compose.encode()) > MAX_COMPOSE:
            raise StackError(f'compose.yaml is larger than {MAX_COMPOSE // 1024} KB')
        if len(self.env.encode()) > MAX_ENV:
            raise StackError(f'.env is larger than {MAX_ENV // 1024} KB')

    def services(self) -> list[str]:
        """The services the file names ([] when it is not a compose file)."""
        try:
            data = yaml.safe_load(self.compose)
        except yaml.YAMLError:
            return []
        services = data.get('services') if isinstance(data, dict) else None
        return sorted(map(str, services)) if isinstance(services, dict) else []


@dataclass(kw_only=True, slots=True, frozen=True)
class Version:
    number: int
    author: str
    at: float
    message: str = ''
    job_id: str = ''

    @property
    def title(self) -> str:
        moment = time.strftime('%Y-%m-%d %H:%M', time.localtime(self.at))
        return f'v{self.number} · {moment} · {self.author}' + (f' · {self.message}' if self.message else '')


class Stacks:
    """The stacks directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def directory(self, name: str) -> Path:
        return self.root / check_name(name)

    def exists(self, name: str) -> bool:
        return (self.directory(name) / COMPOSE_FILE).is_file()

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            entry.name
            for entry in self.root.iterdir()
            if NAME.fullmatch(entry.name) and (entry / COMPOSE_FILE).is_file()
        )

    def read(self, name: str) -> StackFiles:
        directory = self.directory(name)
        if not (directory / COMPOSE_FILE).is_file():
            raise StackError(f'there is no stack named {name}')
        env = directory / ENV_FILE
        return StackFiles(compose=(directory / COMPOSE_FILE).read_text(), env=env.read_text() if env.is_file() else '')

    def modified(self, name: str) -> float:
        """When compose.yaml last changed (0 when there is none)."""
        try:
            return (self.directory(name) / COMPOSE_FILE).stat().st_mtime
        except OSError:
            return 0.0

    def overview(self, endpoint: str | None = None) -> dict[str, tuple[list[str], float]]:
        """Each stack's services (as its file names them) and when its file changed, of the stacks on ``endpoint``
        (None: every stack): what the stacks table needs."""
        found = {}
        for name in self.names():
            if endpoint is not None and self.endpoint(name) != endpoint:
                continue
            try:
                services = self.read(name).services()
            except (OSError, StackError):
                services = []
            found[name] = (services, self.modified(name))
        return found

    def endpoint(self, name: str) -> str:
        """The Docker endpoint the stack belongs to (``local`` for a stack that names none)."""
        try:
            data = json.loads((self.directory(name) / STACK_META).read_text())
        except (OSError, ValueError):
            return LOCAL_ENDPOINT
        endpoint = data.get('endpoint') if isinstance(data, dict) else None
        return endpoint if isinstance(endpoint, str) and endpoint else LOCAL_ENDPOINT

    def claim(self, name: str, endpoint: str) -> None:
        """Makes ``endpoint`` the stack's host: a new stack's; a stack of another host is refused with a sentence."""
        if self.exists(name):
            current = self.endpoint(name)
            if current != endpoint:
                raise StackError(f'the stack {name} belongs to host "{clip(current)}"')
            return
        directory = self.directory(name)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_file(directory / STACK_META, json.dumps({'endpoint': endpoint}))

    def create(self, name: str, files: StackFiles) -> None:
        """A new stack; refused when the name is taken."""
        if self.exists(name):
            raise StackError(f'a stack named {name} exists already')
        self.write(name, files)

    def write(self, name: str, files: StackFiles) -> None:
        files.check()
        directory = self.directory(name)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_file(directory / COMPOSE_FILE, files.compose)
        write_file(directory / ENV_FILE, files.env)

    def write_beside(self, name: str, relative: str, text: str) -> None:
        """A file the compose file names by a relative path (an adopted ``env_file``), written inside the stack's
        directory; a path that would leave it, or replace the stack's own files, is refused with a sentence."""
        parts = PurePosixPath(relative).parts
        if (
            not parts
            or relative.startswith('/')
            or '..' in parts
            or parts[0] in (COMPOSE_FILE, ENV_FILE, STACK_META, VERSIONS)
        ):
            raise StackError(f'{relative} cannot be kept beside the stack {name}')
        if len(text.encode()) > MAX_ENV:
            raise StackError(f'{relative} is larger than {MAX_ENV // 1024} KB')
        path = self.directory(name).joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_file(path, text)

    def versions(self, name: str) -> list[Version]:
        """Every saved version, newest first."""
        folder = self.directory(name) / VERSIONS
        if not folder.is_dir():
            return []
        found = []
        for entry in folder.iterdir():
            if entry.name.isdigit() and (entry / META).is_file():
                data = json.loads((entry / META).read_text())
                found.append(Version(**{key: data[key] for key in Version.__dataclass_fields__ if key in data}))
        return sorted(found, key=lambda version: version.number, reverse=True)

    def save_version(
        self, name: str, files: StackFiles, *, author: str, message: str = '', job_id: str = ''
    ) -> Version:
        """Writes the files as the stack's current ones and keeps them as the next version."""
        self.write(name, files)
        previous = self.versions(name)
        version = Version(
            number=previous[0].number + 1 if previous else 1,
            author=author,
            at=time.time(),
            message=message.strip()[:200],
            job_id=job_id,
        )
        folder = self.directory(name) / VERSIONS / f'{version.number:04d}'
        folder.mkdir(parents=True, exist_ok=False, mode=0o700)
        write_file(folder / COMPOSE_FILE, files.compose)
        write_file(folder / ENV_FILE, files.env)
        write_file(folder / META, json.dumps(asdict(version)))
        return version

    def version(self, name: str, number: int) -> StackFiles:
        folder = self.directory(name) / VERSIONS / f'{number:04d}'
        if not (folder / COMPOSE_FILE).is_file():
            raise StackError(f'{name} has no version {number}')
        env = folder / ENV_FILE
        return StackFiles(compose=(folder / COMPOSE_FILE).read_text(), env=env.read_text() if env.is_file() else '')

    def diff(self, name: str, older: int, newer: int) -> str:
        """A unified diff of two versions' compose.yaml and .env (secret-looking values masked)."""
        before, after = self.version(name, older), self.version(name, newer)
        return diff_files(before, after, f'v{older}', f'v{newer}')


def diff_files(before: StackFiles, after: StackFiles, before_name: str, after_name: str) -> str:
    parts: list[str] = []
    for file, old, new in (
        (COMPOSE_FILE, before.compose, after.compose),
        (ENV_FILE, mask_env(before.env), mask_env(after.env)),
    ):
        parts.extend(
            difflib.unified_diff(
                old.splitlines(keepends=True),
                new.splitlines(keepends=True),
                fromfile=f'{before_name}/{file}',
                tofile=f'{after_name}/{file}',
            )
        )
    return ''.join(line if line.endswith('\n') else line + '\n' for line in parts)


def write_file(path: Path, text: str) -> None:
    """Atomically, readable by the owner alone (a .env holds secrets)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix='.tmp-')
    try:
        with os.fdopen(handle, 'w') as file:
            file.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
