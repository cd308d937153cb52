"""Body-level policy for creating containers: which parts of a request need which permission.

A pure function, used twice: by the command layer before anything is queued, and again by the actor with the
role the dispatcher signed and the protected volumes the worker found itself (defence in depth).
"""

from __future__ import annotations

from collections.abc import Collection

from core.commands.spec import ContainerSpec
from core.permissions import ROLES, Permission, lowest_role, role_allows
from core.protection import RESERVED_LABEL_PREFIX


def refusals(spec: ContainerSpec, role: str | None, protected_volumes: Collection[str] = ()) -> list[str]:
    """Sentences saying what ``role`` may not ask for in ``spec``; empty when the request is allowed.

    Viewers (and unknown roles) cannot create containers at all; operators can, without privileged mode, added
    capabilities, host devices, host namespaces (network, PID, IPC), bind mounts of host paths or volume driver
    options, Berth's protected volumes (``protected_volumes``, see :mod:`core.protection`) or Berth's own labels
    (``berth.*``); admins can ask for everything the form offers.
    """
    return list(refusals_by_field(spec, role, protected_volumes).values())


def refusals_by_field(spec: ContainerSpec, role: str | None, protected_volumes: Collection[str] = ()) -> dict[str, str]:
    """The same refusals, keyed by the spec field they are about ('role' when the role alone decides)."""
    create_role = lowest_role(Permission.CONTAINER_CREATE)
    if role not in ROLES:
        return {'role': f'creating a container needs a signed-in user with the {create_role} role'}
    if not role_allows(role, Permission.CONTAINER_CREATE):
        return {'role': f'a {role} cannot create containers: that needs the {create_role} role'}
    if role_allows(role, Permission.CONTAINER_BODY_ADMIN) and role_allows(role, Permission.BERTH_INTERNALS):
        return {}
    reasons: dict[str, str] = {}
    if spec.privileged:
        reasons['privileged'] = 'privileged mode needs the admin role'
    if spec.cap_add:
        reasons['cap_add'] = f'adding capabilities ({", ".join(spec.cap_add)}) needs the admin role'
    if spec.devices:
        reasons['devices'] = f'host devices ({", ".join(spec.devices)}) need the admin role'
    if spec.network == 'host':
        reasons['network'] = 'the host network needs the admin role'
    if spec.pid_mode == 'host':
        reasons['pid_mode'] = 'the host PID namespace needs the admin role'
    if spec.ipc_mode == 'host':
        reasons['ipc_mode'] = 'the host IPC namespace needs the admin role'
    binds = [mount.source for mount in spec.mounts if mount.kind == 'bind']
    guarded = sorted(
        {mount.source for mount in spec.mounts if mount.kind == 'volume' and mount.source} & set(protected_volumes)
    )
    if binds:
        reasons['mounts'] = f'bind mounts of host paths ({", ".join(binds)}) need the admin role'
    elif guarded:
        reasons['mounts'] = f'mounting {", ".join(guarded)} needs the admin role: Berth protects the data in it'
    reserved = sorted(key for key in spec.labels if key.lower().startswith(RESERVED_LABEL_PREFIX))
    if reserved:
        reasons['labels'] = f"Berth's own labels ({', '.join(reserved)}) need the admin role"
    if spec.volume_driver or spec.volume_driver_options:
        reasons['volume_driver_options'] = 'volume driver options need the admin role'
    return reasons
