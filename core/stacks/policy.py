"""A compose file is a container body: its normalised form (``compose config --format json``) passes the body policy
of create-and-run (:mod:`core.commands.policy`), service by service, plus what only compose can ask for.

Used twice, like the create policy: by the command before anything is queued, and by the actor with the role the
panel signed and the protected volumes the worker found itself. :func:`path_refusals` runs on the raw file before
compose reads anything: the files a compose file names (``env_file``, ``include``, ``extends``) are read by compose
on the panel's and the worker's host, so outside the stack's own directory they are an admin's to name.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import PurePosixPath
from typing import Any

import yaml

from core.commands import policy
from core.commands.spec import ContainerSpec, MountSpec
from core.permissions import ROLES, Permission, role_allows

ADMIN = 'only an admin may'
# the create policy's fields → the compose option a sentence names
OPTION_OF = {
    'privileged': 'privileged: true',
    'cap_add': 'cap_add',
    'devices': 'devices',
    'network': 'network_mode: host',
    'pid_mode': 'pid: host',
    'ipc_mode': 'ipc: host',
    'mounts': 'volumes',
    'labels': 'labels',
    'volume_driver_options': 'driver_opts',
}
HOST_MODES = ('userns_mode', 'uts', 'cgroup')


def is_admin(role: str | None) -> bool:
    return role_allows(role, Permission.CONTAINER_BODY_ADMIN) and role_allows(role, Permission.BERTH_INTERNALS)


def refusals(config: Mapping[str, Any], role: str | None, protected_volumes: Collection[str] = ()) -> list[str]:
    """Sentences naming the service and the option ``role`` may not ask for; empty when the stack is allowed."""
    if role not in ROLES or not role_allows(role, Permission.CONTAINER_CREATE):
        return [policy.refusals(ContainerSpec(image='-'), role)[0]]
    if is_admin(role):
        return []
    volumes: dict[str, Any] = dict(config.get('volumes') or {})
    reasons: list[str] = []
    for key, declared in sorted(volumes.items()):
        volume = declared or {}
        if volume.get('driver_opts') or volume.get('driver') not in (None, '', 'local'):
            reasons.append(f'volume {key}: driver_opts — {ADMIN} set volume driver options')
    for name, service in sorted((config.get('services') or {}).items()):
        reasons.extend(
            f'service {name}: {reason}' for reason in service_refusals(service or {}, volumes, role, protected_volumes)
        )
    for kind in ('configs', 'secrets'):
        for key, entry in sorted((config.get(kind) or {}).items()):
            if (entry or {}).get('file'):
                reasons.append(f'{kind[:-1]} {key}: file {entry["file"]} — {ADMIN} use files of the host')
    return reasons


def service_refusals(
    service: Mapping[str, Any], volumes: Mapping[str, Any], role: str, protected_volumes: Collection[str]
) -> list[str]:
    spec = ContainerSpec(
        image=str(service.get('image') or '-'),
        privileged=bool(service.get('privileged')),
        cap_add=[str(item) for item in service.get('cap_add') or []],
        devices=[
            str((item or {}).get('source') if isinstance(item, dict) else item) for item in service.get('devices') or []
        ],
        network='host' if service.get('network_mode') == 'host' else '',
        pid_mode='host' if service.get('pid') == 'host' else '',
        ipc_mode='host' if service.get('ipc') == 'host' else '',
        mounts=[mount for item in service.get('volumes') or [] if (mount := mount_of(item, volumes)) is not None],
        labels={str(key): str(value) for key, value in dict(service.get('labels') or {}).items()},
    )
    reasons = [
        f'{OPTION_OF.get(field, field)} — {reason}'
        for field, reason in policy.refusals_by_field(spec, role, protected_volumes).items()
    ]
    for key in ('network_mode', 'pid', 'ipc'):
        value = str(service.get(key) or '')
        if value.startswith('container:'):
            reasons.append(f"{key}: {value} — {ADMIN} join another container's namespace")
    for key in HOST_MODES:
        if service.get(key) == 'host':
            reasons.append(f'{key}: host — {ADMIN} use the host namespace')
    for key, what in (
        ('security_opt', 'set security options'),
        ('device_cgroup_rules', 'set device cgroup rules'),
        ('cgroup_parent', 'set a cgroup parent'),
        ('gpus', 'use GPUs'),
        ('build', 'build images from files of the host'),
    ):
        if service.get(key):
            reasons.append(f'{key} — {ADMIN} {what}')
    reserved = ((service.get('deploy') or {}).get('resources') or {}).get('reservations') or {}
    if reserved.get('devices'):
        reasons.append(f'deploy.resources.reservations.devices — {ADMIN} use host devices')
    for source in service.get('volumes_from') or []:
        if str(source).startswith('container:'):
            reasons.append(f"volumes_from: {source} — {ADMIN} mount another container's volumes")
    return reasons


def mount_of(item: Any, volumes: Mapping[str, Any]) -> MountSpec | None:
    """A normalised ``volumes`` entry as the create policy sees a mount (named volumes under their engine name)."""
    if not isinstance(item, dict):
        return None
    kind = str(item.get('type') or 'volume')
    if kind not in ('bind', 'volume'):
        return None  # tmpfs, npipe, cluster: nothing of the host's
    source = str(item.get('source') or '')
    if kind == 'volume' and source in volumes:
        source = str((volumes[source] or {}).get('name') or source)
    return MountSpec(target=str(item.get('target') or '/'), source=source, kind=kind)


def path_refusals(text: str, role: str | None) -> list[str]:
    """Files outside the stack's directory that the raw compose file would make compose read (``env_file``,
    ``include``, ``extends.file``): an admin's to name. Runs before compose reads anything."""
    if is_admin(role):
        return []
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return []  # compose reports it, with its line
    if not isinstance(data, dict):
        return []
    reasons = []
    for entry in as_list(data.get('include')):
        for path in as_list(entry.get('path') if isinstance(entry, dict) else entry):
            reasons.extend(outside('include', path))
        if isinstance(entry, dict):
            for path in as_list(entry.get('env_file')):
                reasons.extend(outside('include env_file', path))
    services = data.get('services')
    for name, service in sorted(
        (services if isinstance(services, dict) else {}).items(), key=lambda item: str(item[0])
    ):
        if not isinstance(service, dict):
            continue
        for entry in as_list(service.get('env_file')):
            path = entry.get('path') if isinstance(entry, dict) else entry
            reasons.extend(f'service {name}: {reason}' for reason in outside('env_file', path))
        extends = service.get('extends')
        if isinstance(extends, dict) and extends.get('file'):
            reasons.extend(f'service {name}: {reason}' for reason in outside('extends.file', extends['file']))
    return reasons


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def outside(option: str, path: Any) -> list[str]:
    text = str(path or '')
    parts = PurePosixPath(text).parts
    if not text or text.startswith(('/', '~')) or '$' in text or '..' in parts:
        return [f"{option}: {text} — {ADMIN} name files outside the stack's directory"]
    return []
