"""What a user asks for when creating a container: a closed set of fields, checked, and turned into SDK arguments.

Only the fields below exist: anything the create form does not offer cannot reach the daemon by any path.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import docker
from docker.types import DriverConfig, Mount

from core.docker.reference import InvalidReference, parse_reference
from core.errors import clip

RESTART_POLICIES = ('no', 'always', 'unless-stopped', 'on-failure')
PROTOCOLS = ('tcp', 'udp', 'sctp')
NAME = re.compile(r'[a-zA-Z0-9][a-zA-Z0-9_.-]+')
CAPABILITY = re.compile(r'[A-Z][A-Z_]*')
MIN_MEMORY = 6 * 1024 * 1024  # the daemon's own minimum
MAX_MEMORY = 2**63 - 1  # the daemon's int64
MIN_CPUS = 0.01  # the daemon's own minimum (fewer NanoCpus would also round to 0: no limit at all)
MAX_CPUS = MAX_MEMORY / 1e9  # NanoCpus is an int64 too


class SpecError(ValueError):
    """Fields the user has to correct: field name → a sentence."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__('; '.join(f'{name}: {message}' for name, message in errors.items()))
        self.errors = errors


@dataclass(kw_only=True, slots=True)
class PortBinding:
    container_port: int
    protocol: str = 'tcp'
    host_port: int = 0  # 0: a free port chosen by the daemon
    host_ip: str = ''

    def __str__(self) -> str:
        host = (f'[{self.host_ip}]:' if ':' in self.host_ip else f'{self.host_ip}:') if self.host_ip else ''
        return f'{host}{self.host_port or ""}:{self.container_port}/{self.protocol}'


@dataclass(kw_only=True, slots=True)
class MountSpec:
    target: str
    source: str = ''  # '' makes an anonymous volume
    kind: str = 'volume'  # 'volume' or 'bind'
    read_only: bool = False


@dataclass(kw_only=True, slots=True)
class ContainerSpec:
    """Everything the create form can ask for. Admin-only fields are listed in :mod:`core.commands.policy`."""

    image: str
    name: str = ''
    command: list[str] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    ports: list[PortBinding] = field(default_factory=list)
    mounts: list[MountSpec] = field(default_factory=list)
    restart_policy: str = 'no'
    restart_retries: int = 0
    memory: int = 0
    cpus: float = 0.0
    labels: dict[str, str] = field(default_factory=dict)
    network: str = ''
    auto_remove: bool = False
    tty: bool = False
    stdin_open: bool = False
    start: bool = True
    privileged: bool = False
    cap_add: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    pid_mode: str = ''
    ipc_mode: str = ''
    volume_driver: str = ''
    volume_driver_options: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContainerSpec:
        """Rebuilds a spec from a message; refuses fields that do not exist and values of the wrong shape."""
        unknown = set(data) - {item.name for item in fields(cls)}
        if unknown:
            raise SpecError({'spec': f'unknown fields: {", ".join(sorted(unknown))}'})
        try:
            values = dict(data)
            values['ports'] = [PortBinding(**port) for port in data.get('ports') or []]
            values['mounts'] = [MountSpec(**mount) for mount in data.get('mounts') or []]
            spec = cls(**values)
        except TypeError as error:
            raise SpecError({'spec': 'malformed: ports and mounts are lists of mappings of their fields'}) from error
        spec.validate()
        return spec

    def validate(self) -> None:
        """Raises :class:`SpecError` for values the daemon would refuse or that the form cannot produce."""
        shape = _shape_errors(self)
        if shape:  # a message of the wrong shape: the checks below would trip over it
            raise SpecError(shape)
        errors: dict[str, str] = {}
        try:
            parse_reference(self.image)
        except InvalidReference as error:
            errors['image'] = str(error)
        if self.name and not NAME.fullmatch(self.name):
            errors['name'] = (
                f"'{clip(self.name)}' is not a valid container name: use letters, digits, '_', '.' and '-', "
                'starting with a letter or digit (at least 2 characters)'
            )
        if not all(isinstance(part, str) for part in self.command):
            errors['command'] = 'the command must be a list of words'
        for key in self.environment:
            if not key or '=' in key or any(character.isspace() for character in key):
                errors['environment'] = f"'{clip(key)}' is not a valid variable name"
        for port in self.ports:
            if port.protocol not in PROTOCOLS or not 0 < port.container_port < 65536 or not 0 <= port.host_port < 65536:
                errors['ports'] = f"port '{port}' is not valid"
        for mount in self.mounts:
            if (
                mount.kind not in ('volume', 'bind')
                or not mount.target.startswith('/')
                or (mount.kind == 'bind' and not mount.source.startswith('/'))
            ):
                errors['mounts'] = f"mount '{mount.source}:{mount.target}' is not valid"
        if self.restart_retries < 0:
            errors['restart_retries'] = 'the number of retries is 0 or more'
        if self.restart_policy not in RESTART_POLICIES:
            errors['restart_policy'] = f'the restart policy must be one of {", ".join(RESTART_POLICIES)}'
        if self.auto_remove and self.restart_policy != 'no':
            errors['auto_remove'] = 'auto-remove cannot be combined with a restart policy'
        if self.memory and not MIN_MEMORY <= self.memory <= MAX_MEMORY:
            errors['memory'] = 'the memory limit must be at least 6 MB (and less than 8 EiB)'
        if not math.isfinite(self.cpus) or self.cpus < 0:
            errors['cpus'] = 'the CPU limit must be a positive number'
        elif self.cpus and not MIN_CPUS <= self.cpus <= MAX_CPUS:
            errors['cpus'] = f'the CPU limit goes from {MIN_CPUS} to as many CPUs as the host has'
        if self.network and self.network not in ('host', 'none', 'bridge') and not NAME.fullmatch(self.network):
            errors['network'] = f"'{clip(self.network)}' is not a network name"
        if self.pid_mode not in ('', 'host'):
            errors['pid_mode'] = "the PID namespace is either the container's own or the host's"
        if self.ipc_mode not in ('', 'host'):
            errors['ipc_mode'] = "the IPC namespace is either the container's own or the host's"
        if any(not CAPABILITY.fullmatch(capability) for capability in self.cap_add):
            errors['cap_add'] = 'capabilities are upper-case names such as NET_ADMIN'
        if any(not device.startswith('/dev/') for device in self.devices):
            errors['devices'] = 'devices are paths under /dev'
        if errors:
            raise SpecError(errors)

    def audit_summary(self) -> dict[str, Any]:
        """What the audit log keeps: the request without environment values (they are often secrets)."""
        summary = self.to_dict()
        summary['environment'] = sorted(self.environment)
        return summary


_TEXT = ('image', 'name', 'restart_policy', 'network', 'pid_mode', 'ipc_mode', 'volume_driver')
_WORDS = ('command', 'cap_add', 'devices')
_PAIRS = ('environment', 'labels', 'volume_driver_options')
_FLAGS = ('auto_remove', 'tty', 'stdin_open', 'start', 'privileged')


def _shape_errors(spec: ContainerSpec) -> dict[str, str]:
    """Field → a sentence for each field whose value is not of its type (a spec rebuilt from a message)."""
    errors: dict[str, str] = {}

    def whole(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    for name in _TEXT:
        if not isinstance(getattr(spec, name), str):
            errors[name] = f'{name} must be text'
    for name in _WORDS:
        value = getattr(spec, name)
        if not isinstance(value, list) or not all(isinstance(word, str) for word in value):
            errors[name] = f'{name} must be a list of words'
    for name in _PAIRS:
        value = getattr(spec, name)
        if not isinstance(value, dict) or not all(isinstance(item, str) for pair in value.items() for item in pair):
            errors[name] = f'{name} must map names to text'
    for name in _FLAGS:
        if not isinstance(getattr(spec, name), bool):
            errors[name] = f'{name} must be yes or no'
    for name in ('restart_retries', 'memory'):
        if not whole(getattr(spec, name)):
            errors[name] = f'{name} must be a whole number'
    if not (isinstance(spec.cpus, float) or whole(spec.cpus)):
        errors['cpus'] = 'cpus must be a number'
    if not all(
        isinstance(port, PortBinding)
        and whole(port.container_port)
        and whole(port.host_port)
        and isinstance(port.protocol, str)
        and isinstance(port.host_ip, str)
        for port in spec.ports
    ):
        errors['ports'] = 'each port needs whole port numbers, a protocol and an address'
    if not all(
        isinstance(mount, MountSpec)
        and isinstance(mount.target, str)
        and isinstance(mount.source, str)
        and isinstance(mount.kind, str)
        and isinstance(mount.read_only, bool)
        for mount in spec.mounts
    ):
        errors['mounts'] = 'each mount needs a target, a source, a kind and a read-only flag'
    return errors


def create_arguments(api: docker.APIClient, spec: ContainerSpec) -> dict[str, Any]:
    """Keyword arguments for ``APIClient.create_container`` that say exactly what ``spec`` says."""
    bindings: dict[str, list[tuple[str, str]]] = {}
    for port in spec.ports:
        bindings.setdefault(f'{port.container_port}/{port.protocol}', []).append(
            (port.host_ip, str(port.host_port) if port.host_port else '')
        )
    driver = (
        DriverConfig(spec.volume_driver or 'local', spec.volume_driver_options)
        if spec.volume_driver or spec.volume_driver_options
        else None
    )
    mounts = [
        Mount(
            target=mount.target,
            source=mount.source or None,
            type=mount.kind,
            read_only=mount.read_only,
            driver_config=driver if mount.kind == 'volume' and mount.source else None,
        )
        for mount in spec.mounts
    ]
    host_config = api.create_host_config(
        port_bindings=bindings or None,
        mounts=mounts or None,
        auto_remove=spec.auto_remove,
        restart_policy={'Name': spec.restart_policy, 'MaximumRetryCount': spec.restart_retries}
        if spec.restart_policy != 'no'
        else None,
        mem_limit=spec.memory or None,
        nano_cpus=int(spec.cpus * 1e9) or None,
        network_mode=spec.network or None,
        privileged=spec.privileged,
        cap_add=spec.cap_add or None,
        devices=[device if ':' in device else f'{device}:{device}:rwm' for device in spec.devices] or None,
        pid_mode=spec.pid_mode or None,
        ipc_mode=spec.ipc_mode or None,
    )
    return {
        'image': spec.image,
        'name': spec.name or None,
        'command': spec.command or None,
        'environment': spec.environment or None,
        'labels': spec.labels or None,
        'tty': spec.tty,
        'stdin_open': spec.stdin_open,
        'host_config': host_config,
        'ports': [(port.container_port, port.protocol) for port in spec.ports] or None,
    }
