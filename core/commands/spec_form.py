"""The create form's text fields → a :class:`ContainerSpec`, with a sentence per field that needs correcting."""

from __future__ import annotations

import ipaddress
import math
import re
import shlex
from collections.abc import Callable
from typing import Any

from core.commands.spec import MAX_CPUS, MIN_CPUS, NAME, PROTOCOLS, ContainerSpec, MountSpec, PortBinding, SpecError
from core.docker.reference import parse_reference
from core.errors import clip

MEMORY = re.compile(r'(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[kmgt]?)(?:i?b)?', re.IGNORECASE)
MAX_BYTES = 2**63 - 1  # what the daemon's int64 fields hold
UNITS = {'': 1, 'k': 1024, 'm': 1024**2, 'g': 1024**3, 't': 1024**4}
PORT = re.compile(
    r'(?:(?P<ip>\[[0-9a-fA-F:]+\]|\d{1,3}(?:\.\d{1,3}){3}):)?(?:(?P<host>\d*):)?(?P<container>\d+)'
    r'(?:/(?P<protocol>\w+))?'
)


def entries(text: str) -> list[str]:
    """Lines (or comma-separated items on a line), blank ones and '#' comments left out."""
    items = [item.strip() for line in text.splitlines() for item in line.split(',')]
    return [item for item in items if item and not item.startswith('#')]


def parse_port(text: str) -> PortBinding:
    """'8080:80', '127.0.0.1:8080:80/tcp', '80/udp' (a free host port), '127.0.0.1::80'."""
    match = PORT.fullmatch(text)
    if match is None:
        if '-' in text:
            raise ValueError(f"port '{clip(text)}' is not valid: ranges are not supported here, list each port")
        raise ValueError(f"port '{clip(text)}' is not valid: write host:container[/protocol], e.g. 8080:80/tcp")
    protocol = (match.group('protocol') or 'tcp').lower()
    if protocol not in PROTOCOLS:
        raise ValueError(f"port '{clip(text)}' is not valid: the protocol must be tcp, udp or sctp")
    container, host = _port_number(match.group('container')), _port_number(match.group('host') or '0')
    if not 0 < container < 65536 or host > 65535:
        raise ValueError(f"port '{clip(text)}' is not valid: ports go from 1 to 65535")
    host_ip = (match.group('ip') or '').strip('[]')
    if host_ip:
        try:
            ipaddress.ip_address(host_ip)
        except ValueError:
            raise ValueError(f"port '{clip(text)}' is not valid: '{clip(host_ip)}' is not an IP address") from None
    return PortBinding(container_port=container, protocol=protocol, host_port=host, host_ip=host_ip)


def parse_mount(text: str) -> MountSpec:
    """'data:/var/lib/data', '/srv/site:/usr/share/site:ro' (a bind mount), '/scratch' (an anonymous volume)."""
    parts = text.split(':')
    read_only = False
    if len(parts) > 1 and parts[-1] in ('ro', 'rw'):
        read_only = parts.pop() == 'ro'
    if len(parts) == 1:
        source, target = '', parts[0]
    elif len(parts) == 2:
        source, target = parts
    else:
        raise ValueError(f"mount '{clip(text)}' is not valid: write source:/path/in/container[:ro]")
    if not target.startswith('/'):
        raise ValueError(f"mount '{clip(text)}' is not valid: the path in the container must start with '/'")
    if source.startswith(('/', '.', '~')):
        if not source.startswith('/'):
            raise ValueError(f"mount '{clip(text)}' is not valid: a host path must be absolute (start with '/')")
        return MountSpec(target=target, source=source, kind='bind', read_only=read_only)
    if source and not NAME.fullmatch(source):
        raise ValueError(
            f"mount '{clip(text)}' is not valid: '{clip(source)}' is neither a volume name nor an absolute path"
        )
    return MountSpec(target=target, source=source, kind='volume', read_only=read_only)


def parse_pairs(text: str, what: str) -> dict[str, str]:
    """'KEY=VALUE' per line (values may contain '=' and ','); a key alone means an empty value."""
    pairs: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        key, _, value = line.partition('=')
        key = key.strip()
        if not key or any(character.isspace() for character in key):
            raise ValueError(f"'{clip(line)}' is not valid: write one {what} per line as NAME=value")
        pairs[key] = value
    return pairs


def parse_memory(text: str) -> int:
    """'512m', '1g', '1.5GiB', '268435456' → bytes (binary units, as docker reads them); '' → no limit."""
    text = text.strip()
    if not text:
        return 0
    match = MEMORY.fullmatch(text)
    if match is None:
        raise ValueError(f"'{clip(text)}' is not a memory size: write e.g. 512m or 1g")
    size = float(match.group('number')) * UNITS[match.group('unit').lower()]
    if not size <= MAX_BYTES:  # also inf: float() of hundreds of digits
        raise ValueError(f"'{clip(text)}' is too large for a memory limit: write e.g. 512m or 1g")
    return int(size)


def parse_cpus(text: str) -> float:
    text = text.strip()
    if not text:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"'{clip(text)}' is not a number of CPUs: write e.g. 0.5 or 2") from None
    if not math.isfinite(value):
        raise ValueError(f"'{clip(text)}' is not a number of CPUs: write e.g. 0.5 or 2")
    if value <= 0:
        raise ValueError('the CPU limit must be more than 0')
    if not MIN_CPUS <= value <= MAX_CPUS:
        raise ValueError(f"'{clip(text)}' is not a CPU limit: it goes from {MIN_CPUS} to as many CPUs as the host has")
    return value


def split_command(text: str) -> list[str]:
    """Words as a shell splits them ('sh -c "echo hi"' → three words); a ValueError with a sentence otherwise."""
    try:
        return shlex.split(text)
    except ValueError:  # shlex says only "No closing quotation" or "No escaped character"
        raise ValueError(
            'the command has a quote that is never closed or ends with a lone backslash: '
            'close each " or \' and write \\\\ for a backslash'
        ) from None


def parse_retries(text: str) -> int:
    """How many times a container restarts on failure: '' → 0."""
    text = text.strip()
    if not text:
        return 0
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise ValueError(f"'{clip(text)}' is not a number of retries: write a whole number such as 3 (0: no limit)")
    return int(text)


def spec_from_form(values: dict[str, Any]) -> ContainerSpec:
    """Builds the spec from the form's values; raises :class:`SpecError` with a sentence per wrong field."""
    errors: dict[str, str] = {}

    def read(name: str, parse: Callable[[str], Any], default: Any) -> Any:
        try:
            return parse(str(values.get(name) or ''))
        except ValueError as error:
            errors[name] = str(error)
            return default

    image = read('image', _image, '')
    spec = ContainerSpec(
        image=image,
        name=str(values.get('name') or '').strip().lstrip('/'),
        command=read('command', split_command, []),
        environment=read('environment', lambda text: parse_pairs(text, 'variable'), {}),
        ports=read('ports', lambda text: [parse_port(item) for item in entries(text)], []),
        mounts=read('mounts', lambda text: [parse_mount(item) for item in entries(text)], []),
        restart_policy=str(values.get('restart_policy') or 'no'),
        restart_retries=read('restart_retries', parse_retries, 0),
        memory=read('memory', parse_memory, 0),
        cpus=read('cpus', parse_cpus, 0.0),
        labels=read('labels', lambda text: parse_pairs(text, 'label'), {}),
        network=str(values.get('network') or '').strip(),
        auto_remove=bool(values.get('auto_remove')),
        tty=bool(values.get('tty')),
        stdin_open=bool(values.get('stdin_open')),
        start=bool(values.get('start', True)),
        privileged=bool(values.get('privileged')),
        cap_add=read('cap_add', lambda text: [item.upper().removeprefix('CAP_') for item in entries(text)], []),
        devices=read('devices', entries, []),
        pid_mode='host' if values.get('pid_host') else '',
        ipc_mode='host' if values.get('ipc_host') else '',
        volume_driver=str(values.get('volume_driver') or '').strip(),
        volume_driver_options=read('volume_driver_options', lambda text: parse_pairs(text, 'option'), {}),
    )
    if not errors:
        try:
            spec.validate()
        except SpecError as error:
            errors.update(error.errors)
    if errors:
        raise SpecError(errors)
    return spec


def _port_number(digits: str) -> int:
    """The number, or one out of range for more digits than a port has (int() refuses thousands of them)."""
    return int(digits) if len(digits) <= 5 else 65536


def _image(text: str) -> str:
    parse_reference(text)  # raises InvalidReference (a ValueError) with the sentence
    return text.strip()
