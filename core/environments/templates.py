"""Environment templates: what an admin offers people to create their dev environments from.

A template is a closed set of fields (like :class:`core.commands.spec.ContainerSpec`, which it becomes), read from
the admin page or from ``BERTH_DATA_DIR/templates.yaml`` with a sentence per wrong field. Its body must be one an
operator could create (no privileged mode, host paths, host namespaces, devices, added capabilities, driver options
or Berth's own labels): :meth:`Template.refusals` applies the create-and-run body policy to it, when it is saved and
again whenever an environment is made from it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from core.commands import policy
from core.commands.spec import NAME, ContainerSpec, MountSpec, PortBinding, SpecError
from core.commands.spec_form import parse_cpus, parse_memory, parse_port, split_command
from core.docker.reference import InvalidReference, parse_reference
from core.errors import clip
from core.permissions import OWNER_LABEL, Role
from core.storage.seeded_store import SeededStore

ENVIRONMENT_LABEL = 'berth.environment'  # the environment's name (per owner), on its container and volumes
TEMPLATE_LABEL = 'berth.template'  # the template it was made from
HOME_LABEL = 'berth.home'  # on the home volume: the environment it belongs to
# Keeps the container running when the template names no command, and stops at once on SIGTERM
KEEP_RUNNING = ['sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done']
REQUIRED = ('name', 'image', 'home', 'cpus', 'memory', 'idle_minutes')
MAX_MINUTES = 10**9  # an idle timeout longer than any machine lives
BODY_ROLE = Role.OPERATOR.value  # an environment's body is checked as if an operator created it


@dataclass(kw_only=True, slots=True, frozen=True)
class Template:
    name: str
    image: str
    home: str  # where the environment's own named volume is mounted (its persistent home)
    cpus: float
    memory: int  # bytes
    idle_minutes: int  # stopped after this long without an open terminal or exec activity; 0: never
    description: str = ''
    command: list[str] = field(default_factory=list)  # empty: keep the container running
    user: str = ''  # the terminal's (and the command's) user; '' is the image's
    workdir: str = ''  # '' is the home
    shell: str = ''  # the terminal's shell; '' is bash when the image has it, else sh
    environment: dict[str, str] = field(default_factory=dict)
    volumes: list[str] = field(default_factory=list)  # extra named volumes per environment, 'name:/path'
    ports: list[str] = field(default_factory=list)  # published ports, 'container[/protocol]' or 'host:container'
    public_ports: bool = False  # publish on every interface instead of 127.0.0.1 only
    groups: list[str] = field(default_factory=list)  # who may use it (SSO groups); empty: everyone who may create
    source: str = 'page'  # 'page' or 'file' (templates.yaml, which wins at every start)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = 'page') -> Template:
        """From the admin form or one entry of templates.yaml; raises :class:`SpecError` with a sentence per field."""
        errors: dict[str, str] = {}
        missing = [key for key in REQUIRED if data.get(key) in (None, '')]
        if missing:
            errors['template'] = f'missing {", ".join(missing)}'
        unknown = sorted(set(map(str, data)) - {item.name for item in fields(cls)} - {'source'})
        if unknown:
            errors['template'] = f'unknown fields: {clip(", ".join(unknown))}'
        if errors:
            raise SpecError(errors)

        def read(key: str, parse: Any, default: Any) -> Any:
            value = data.get(key)
            if value in (None, ''):
                return default
            try:
                return parse(value)
            except (ValueError, TypeError) as error:
                errors[key] = str(error) or f'{key} is not valid'
                return default

        template = cls(
            name=str(data['name']).strip(),
            image=str(data['image']).strip(),
            home=str(data['home']).strip(),
            cpus=read('cpus', lambda value: parse_cpus(str(value)), 0.0),
            memory=read('memory', lambda value: parse_memory(str(value)), 0),  # a bare number is bytes
            idle_minutes=read('idle_minutes', _minutes, 0),
            description=str(data.get('description') or ''),
            command=read('command', _words, []),
            user=str(data.get('user') or '').strip(),
            workdir=str(data.get('workdir') or '').strip(),
            shell=str(data.get('shell') or '').strip(),
            environment=read('environment', _pairs, {}),
            volumes=read('volumes', _strings, []),
            ports=read('ports', _strings, []),
            public_ports=bool(data.get('public_ports')),
            groups=read('groups', _strings, []),
            source=source,
        )
        try:
            template.validate()
        except SpecError as error:
            for key, message in error.errors.items():
                errors.setdefault(key, message)  # a field that could not be read says why, not what it fell back to
        if errors:
            raise SpecError(errors)
        return template

    @classmethod
    def from_json(cls, text: str) -> Template:
        return cls(**json.loads(text))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def validate(self) -> None:
        errors: dict[str, str] = {}
        if not NAME.fullmatch(self.name):
            errors['name'] = (
                f"'{clip(self.name)}' is not a valid template name: use letters, digits, '_', '.' and '-' "
                '(at least 2 characters)'
            )
        try:
            parse_reference(self.image)
        except InvalidReference as error:
            errors['image'] = str(error)
        for key, path in (('home', self.home), ('workdir', self.workdir), ('shell', self.shell)):
            if path and not path.startswith('/'):
                errors[key] = f"'{clip(path)}' is not an absolute path"
        if self.home in ('/', ''):
            errors['home'] = 'the home must be a directory such as /home/dev, not the root'
        if self.cpus <= 0:
            errors['cpus'] = 'every environment needs a CPU limit (more than 0)'
        if self.memory < 6 * 1024 * 1024:
            errors['memory'] = 'every environment needs a memory limit of at least 6 MB'
        if self.idle_minutes < 0:
            errors['idle_minutes'] = 'the idle timeout is a number of minutes (0: never stop)'
        for volume in self.volumes:
            name, _, path = volume.partition(':')
            if not NAME.fullmatch(name) or not path.startswith('/'):
                errors['volumes'] = f"'{clip(volume)}' is not valid: write name:/path (a named volume per environment)"
        for port in self.ports:
            try:
                binding = parse_port(port)
            except ValueError as error:
                errors['ports'] = str(error)
                continue
            if binding.host_ip:
                errors['ports'] = f"'{clip(port)}': the address is chosen by 'public ports', not per port"
        if errors:
            raise SpecError(errors)
        self.container_spec(container_name='check', home_volume='check-home', extra_volumes={}, labels={})

    def refusals(self) -> list[str]:
        """What the body policy refuses in this template (as an operator's request): empty when it may be used."""
        spec = self.container_spec(container_name='check', home_volume='check-home', extra_volumes={}, labels={})
        return policy.refusals(spec, BODY_ROLE)

    def port_bindings(self) -> list[PortBinding]:
        host_ip = '' if self.public_ports else '127.0.0.1'
        return [replace(parse_port(port), host_ip=host_ip) for port in self.ports]

    def container_spec(
        self, *, container_name: str, home_volume: str, extra_volumes: Mapping[str, str], labels: Mapping[str, str]
    ) -> ContainerSpec:
        """The create request of an environment: its home and extra volumes by name, the limits, ``labels`` (Berth's
        own, added after the policy check of the template's body)."""
        mounts = [MountSpec(target=self.home, source=home_volume)]
        for volume in self.volumes:
            name, _, path = volume.partition(':')
            mounts.append(MountSpec(target=path, source=extra_volumes.get(name, name)))
        spec = ContainerSpec(
            image=self.image,
            name=container_name,
            command=self.command or list(KEEP_RUNNING),
            environment=dict(self.environment),
            ports=self.port_bindings(),
            mounts=mounts,
            restart_policy='no',
            memory=self.memory,
            cpus=self.cpus,
            labels=dict(labels),
            start=True,
        )
        spec.validate()
        return spec


@dataclass(kw_only=True, slots=True, frozen=True)
class EnvironmentNames:
    """The names an environment's resources get: the container's carries the owner's user name for people reading
    ``docker ps``; the volumes' carry a digest of the stable owner id, so that a re-created environment of the same
    name and owner finds its home again whatever the user name is by then."""

    container: str
    home_volume: str
    volume_prefix: str

    @classmethod
    def of(cls, *, owner_id: str, username: str, name: str) -> EnvironmentNames:
        digest = hashlib.sha256(owner_id.encode('utf-8', 'surrogatepass')).hexdigest()[:12]  # the same for real ids
        readable = re.sub(r'[^a-zA-Z0-9_.-]+', '-', username).strip('-.') or 'user'
        prefix = f'berth-env-{digest}-{name}'
        return cls(container=f'env-{readable}-{name}', home_volume=f'{prefix}-home', volume_prefix=prefix)

    def extra_volume(self, name: str) -> str:
        return f'{self.volume_prefix}-{name}'


def environment_labels(*, owner_id: str, name: str, template: str) -> dict[str, str]:
    return {OWNER_LABEL: owner_id, ENVIRONMENT_LABEL: name, TEMPLATE_LABEL: template}


class Templates(SeededStore[Template]):
    """The templates in the database (one JSON row each), seeded from templates.yaml at start."""

    table = 'templates'
    noun = 'template'
    fields_hint = 'name, image, home, cpus, memory, ...'
    kind = Template


def _minutes(value: Any) -> int:
    sentence = f"'{clip(value)}' is not a whole number of minutes"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(sentence)
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise ValueError(sentence) from None
    if not math.isfinite(number) or number < 0 or number != int(number) or number > MAX_MINUTES:
        raise ValueError(sentence)
    return int(number)


def _words(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(word) for word in value]
    return split_command(str(value))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [item.strip() for line in value.splitlines() for item in line.split(',') if item.strip()]
    if isinstance(value, Iterable):
        return [str(item).strip() for item in value if str(item).strip()]
    raise ValueError('expected a list')


def _pairs(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {str(key): '' if item is None else str(item) for key, item in value.items()}
    pairs: dict[str, str] = {}
    for line in str(value).splitlines():
        if line.strip() and not line.strip().startswith('#'):
            key, _, item = line.strip().partition('=')
            pairs[key.strip()] = item
    return pairs
