"""A dev environment as the panel and the worker see it: a container carrying ``berth.environment``, its owner and
template in labels, and the terminal it opens (shell, user, directory) in labels of its own, so the environment keeps
what it was made with whatever happens to its template later."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from core.errors import clip
from core.permissions import OWNER_LABEL, Identity, Permission
from core.state.containers import ContainerRow

from .templates import ENVIRONMENT_LABEL, TEMPLATE_LABEL, EnvironmentNames, Template

SHELL_LABEL = 'berth.shell'  # the terminal's command ('' : bash if the image has it, else sh)
USER_LABEL = 'berth.user'  # the terminal's user ('' : the image's)
WORKDIR_LABEL = 'berth.workdir'  # where the terminal starts: the template's directory, else the home
IDLE_LABEL = 'berth.idle_minutes'  # stopped after this many minutes without a terminal or exec activity; 0: never
ENVIRONMENT_OPERATIONS = ('create', 'delete', 'assign', 'idle_stop')  # job kinds: environment.<operation>
IDLE_STOP_KIND = 'environment.idle_stop'

NAME = re.compile(r'[a-zA-Z0-9][a-zA-Z0-9_.-]{0,39}')


def check_name(name: str) -> str:
    """The environment's name, stripped; raises ValueError with a sentence when it cannot name a container."""
    name = name.strip()
    if not NAME.fullmatch(name):
        raise ValueError(
            f"'{clip(name)}' is not a valid environment name: use up to 40 letters, digits, '_', '.' and '-', "
            'starting with a letter or digit'
        )
    return name


def terminal_labels(template: Template) -> dict[str, str]:
    return {SHELL_LABEL: template.shell, USER_LABEL: template.user, WORKDIR_LABEL: template.workdir or template.home}


def usable_by(template: Template, identity: Identity) -> bool:
    """Operators and admins use every template; others the ones for everybody, or for one of their SSO groups."""
    if identity.can(Permission.ENVIRONMENT_CREATE):
        return True
    return not template.groups or bool(set(template.groups) & set(identity.groups))


@dataclass(kw_only=True, slots=True, frozen=True)
class Environment:
    """What the environments page shows of one container, from its labels."""

    row: ContainerRow
    name: str
    owner: str  # the stable owner id
    template: str
    shell: str
    user: str
    workdir: str
    idle_minutes: int = 0  # from the label; 0 (or no label: made before idle stop existed) is never

    @classmethod
    def of(cls, row: ContainerRow) -> Environment | None:
        labels = row.labels
        if not labels.get(ENVIRONMENT_LABEL):
            return None
        return cls(
            row=row,
            name=labels[ENVIRONMENT_LABEL],
            owner=labels.get(OWNER_LABEL, ''),
            template=labels.get(TEMPLATE_LABEL, ''),
            shell=labels.get(SHELL_LABEL, ''),
            user=labels.get(USER_LABEL, ''),
            workdir=labels.get(WORKDIR_LABEL, ''),
            idle_minutes=_whole(labels.get(IDLE_LABEL, '')),
        )


def _whole(text: str) -> int:
    try:
        return max(0, int(text))
    except ValueError:
        return 0


def environments(rows: Iterable[ContainerRow]) -> list[Environment]:
    found = (Environment.of(row) for row in rows)
    return sorted((env for env in found if env is not None), key=lambda env: (env.name, env.owner))


def owned(rows: Iterable[ContainerRow], owner: str, name: str) -> ContainerRow | None:
    """The container of ``owner``'s environment called ``name``, if there is one."""
    for env in environments(rows):
        if env.owner == owner and env.name == name:
            return env.row
    return None


@dataclass(kw_only=True, slots=True, frozen=True)
class CreateRequest:
    """What the panel signs into a create job: who it is for, its name and the template as it was checked."""

    name: str
    owner: str  # the stable owner id
    username: str  # for the container's readable name
    template: Template

    @property
    def names(self) -> EnvironmentNames:
        return EnvironmentNames.of(owner_id=self.owner, username=self.username, name=self.name)

    def to_dict(self) -> dict[str, Any]:
        return {'name': self.name, 'owner': self.owner, 'username': self.username, 'template': asdict(self.template)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CreateRequest:
        """Raises ValueError (or :class:`core.commands.spec.SpecError`, one) with a sentence for a malformed one."""
        try:
            template = Template(**dict(data['template']))
            request = cls(
                name=check_name(str(data['name'])),
                owner=str(data['owner']),
                username=str(data['username']),
                template=template,
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f'the request is malformed: {error}') from None
        if not request.owner:
            raise ValueError('the request names no owner')
        template.validate()
        return request
