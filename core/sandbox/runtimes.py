"""Runtimes: what an admin offers people to run scripts in — an image, how the script runs, its file name, limits.

Read from the admin page (/admin/runtimes) or from ``BERTH_DATA_DIR/runtimes.yaml`` (a list of mappings with at least
``name``, ``image``, ``command`` and ``filename``, and optionally ``description``, ``user`` and ``limits``: see
:mod:`core.sandbox.limits` for the limit keys), with a sentence per wrong field. The file wins over the page for the
runtimes it names, at every start.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.commands import policy
from core.commands.spec import NAME, ContainerSpec, SpecError
from core.commands.spec_form import split_command
from core.docker.reference import InvalidReference, parse_reference
from core.errors import clip
from core.permissions import Role
from core.sandbox.limits import DEFAULT_LIMITS, LimitError, Limits
from core.storage.seeded_store import SeededStore

WORK_DIR = '/sandbox'  # the script is written here, in a tmpfs, and the command runs here
NOBODY = '65534:65534'  # the default uid:gid a run has: never root
REQUIRED = ('name', 'image', 'command', 'filename')
KNOWN = {*REQUIRED, 'description', 'user', 'limits', 'source'}
FILENAME = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}')
USER = re.compile(r'(\d{1,10}):(\d{1,10})')
BODY_ROLE = Role.OPERATOR.value  # a runtime's body is checked as if an operator asked for it


@dataclass(kw_only=True, slots=True, frozen=True)
class Runtime:
    name: str
    image: str
    command: list[str]  # e.g. ['python3', '/sandbox/main.py']; the run's arguments follow it
    filename: str  # the script's file name in /sandbox, e.g. main.py
    description: str = ''
    user: str = NOBODY  # numeric uid:gid, never 0
    limits: Limits = field(default_factory=lambda: DEFAULT_LIMITS)
    source: str = 'page'  # 'page' or 'file' (runtimes.yaml, which wins at every start)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = 'page') -> Runtime:
        """From the admin form or one entry of runtimes.yaml; raises :class:`SpecError` with a sentence per field."""
        errors: dict[str, str] = {}
        missing = [key for key in REQUIRED if data.get(key) in (None, '', [])]
        if missing:
            errors['runtime'] = f'missing {", ".join(missing)}'
        unknown = sorted(set(map(str, data)) - KNOWN)
        if unknown:
            errors['runtime'] = (
                f'unknown fields: {clip(", ".join(unknown))} (known: {", ".join(sorted(KNOWN - {"source"}))})'
            )
        if errors:
            raise SpecError(errors)
        command: list[str] = []
        try:
            raw = data['command']
            command = [str(word) for word in raw] if isinstance(raw, list) else split_command(str(raw))
        except ValueError as error:
            errors['command'] = str(error)
        limits = DEFAULT_LIMITS
        raw_limits = data.get('limits') or {}
        if not isinstance(raw_limits, Mapping):
            errors['limits'] = 'limits must be a mapping such as {timeout: 10, memory: 128m}'
        else:
            try:
                limits = Limits.from_mapping(raw_limits)
            except LimitError as error:
                errors.update(error.errors)
        runtime = cls(
            name=str(data['name']).strip(),
            image=str(data['image']).strip(),
            command=command,
            filename=str(data['filename']).strip(),
            description=str(data.get('description') or '').strip(),
            user=str(data.get('user') or NOBODY).strip(),
            limits=limits,
            source=source,
        )
        try:
            runtime.validate()
        except SpecError as error:
            for key, message in error.errors.items():
                errors.setdefault(key, message)
        if errors:
            raise SpecError(errors)
        return runtime

    @classmethod
    def from_json(cls, text: str) -> Runtime:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Runtime:
        """From a stored row or a signed job message: every field must be there and valid."""
        values = dict(data)
        try:
            values['limits'] = Limits(**values.get('limits', {}))
            values['command'] = [str(word) for word in values.get('command', [])]
            runtime = cls(**values)
        except TypeError as error:
            raise SpecError({'runtime': f'malformed: {error}'}) from None
        runtime.validate()
        return runtime

    def to_dict(self) -> dict[str, Any]:
        return {
            'name': self.name,
            'image': self.image,
            'command': list(self.command),
            'filename': self.filename,
            'description': self.description,
            'user': self.user,
            'limits': self.limits.to_dict(),
            'source': self.source,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def validate(self) -> None:
        errors: dict[str, str] = {}
        if not NAME.fullmatch(self.name):
            errors['name'] = (
                f"'{clip(self.name)}' is not a valid runtime name: use letters, digits, '_', '.' and '-' (at least 2 "
                'characters)'
            )
        try:
            parse_reference(self.image)
        except InvalidReference as error:
            errors['image'] = str(error)
        if not self.command or not all(word for word in self.command):
            errors['command'] = 'say how the script runs, e.g. python3 /sandbox/main.py'
        if not FILENAME.fullmatch(self.filename):
            errors['filename'] = (
                f"'{clip(self.filename)}' is not a file name: letters, digits, '_', '.' and '-', not starting with "
                'a dot'
            )
        match = USER.fullmatch(self.user)
        if match is None:
            errors['user'] = f"'{clip(self.user)}' is not a numeric uid:gid such as {NOBODY}"
        elif int(match.group(1)) == 0 or int(match.group(2)) == 0:
            errors['user'] = 'runs never run as root: choose a uid and gid other than 0'
        problems = self.limits.problems()
        errors.update(problems)
        if errors:
            raise SpecError(errors)

    def body(self) -> ContainerSpec:
        """What a run's container asks the engine for, as the create policy sees it (the hardening the worker adds —
        no network, read-only root, dropped capabilities — only ever narrows it)."""
        return ContainerSpec(
            image=self.image,
            command=list(self.command),
            network='none',
            memory=self.limits.memory,
            cpus=self.limits.cpus,
            restart_policy='no',
        )

    def refusals(self) -> list[str]:
        """What the body policy refuses in this runtime (as an operator's request): empty when it may be used."""
        return policy.refusals(self.body(), BODY_ROLE)


class Runtimes(SeededStore[Runtime]):
    """The runtimes in the database (one JSON row each), seeded from runtimes.yaml at start."""

    table = 'sandbox_runtimes'
    noun = 'runtime'
    fields_hint = 'name, image, command, filename, ...'
    kind = Runtime
