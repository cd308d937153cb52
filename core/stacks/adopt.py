"""What adopting an external stack copies in: its compose file, the ``.env`` beside it, and the ``env_file`` files it
names by a relative path inside its directory (readable ones; never a file outside that directory, whatever a path or
a symbolic link says).

Blocking file work: call it off the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from core.stacks.policy import as_list
from core.stacks.store import ENV_FILE, StackError, StackFiles

READ_LIMIT = 256 * 1024  # an adopted file larger than this is not a compose file (or an env file) worth copying


@dataclass(kw_only=True, slots=True, frozen=True)
class Adoptable:
    """The stack's files, and its env files: path relative to the stack's directory → text."""

    files: StackFiles
    env_files: dict[str, str] = field(default_factory=dict)


def read_adoptable(path: Path, services: list[str]) -> Adoptable:
    """The compose file at ``path``, the .env beside it and the env files it names inside its directory, when the
    file is a compose file naming ``services`` (so a label cannot point the panel at any file of the host)."""
    if not path.is_absolute() or path.suffix not in ('.yml', '.yaml'):
        raise StackError(f'{path} is not a compose file (.yml or .yaml)')
    if not path.is_file():
        raise StackError(f'{path} cannot be read here')
    if path.stat().st_size > READ_LIMIT:
        raise StackError(f'{path} is larger than {READ_LIMIT // 1024} KB')
    text = path.read_text()
    named = set(StackFiles(compose=text).services())
    if not named or not set(services) <= named:
        raise StackError(f'{path} does not define the services the stack runs ({", ".join(services)})')
    env = readable(path.parent, ENV_FILE)
    env_files = {
        relative: content
        for relative in env_file_paths(text)
        if relative != ENV_FILE and (content := readable(path.parent, relative)) is not None
    }
    return Adoptable(files=StackFiles(compose=text, env=env or ''), env_files=env_files)


def env_file_paths(text: str) -> list[str]:
    """The ``env_file`` paths of the raw compose file that stay inside its directory (relative, no ``..``, no
    variable), normalised ('./web.env' → 'web.env')."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    services = data.get('services') if isinstance(data, dict) else None
    found: set[str] = set()
    for service in (services if isinstance(services, dict) else {}).values():
        if not isinstance(service, dict):
            continue
        for entry in as_list(service.get('env_file')):
            raw = str((entry.get('path') if isinstance(entry, dict) else entry) or '')
            parts = PurePosixPath(raw).parts
            if raw and not raw.startswith(('/', '~')) and '$' not in raw and '..' not in parts:
                found.add(str(PurePosixPath(*parts)))
    return sorted(found)


def readable(directory: Path, relative: str) -> str | None:
    """The text of ``directory/relative`` when it is a file inside ``directory`` (after symbolic links) of at most
    :data:`READ_LIMIT` bytes; None otherwise."""
    try:
        root = directory.resolve()
        target = (directory / relative).resolve()
        if not target.is_relative_to(root) or not target.is_file() or target.stat().st_size > READ_LIMIT:
            return None
        return target.read_text()
    except (OSError, UnicodeDecodeError):
        return None
