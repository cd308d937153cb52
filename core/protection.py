"""What only admins may reach: Berth's own containers and data, and containers whose body is admin-only.

The Docker socket is root on the host, and the panel's own data (its volume: the session secret, the session files,
the key that seals credentials, the database) is an admin session waiting to be forged. So:

- a **protected container** is the panel's own container (found at start from ``/proc/self/mountinfo``), any
  container of the panel's own compose project (worker, Redis), and any container labelled ``berth.protected=true``
  (Berth's image carries that label, and the compose file puts it on Redis). Non-admins may not exec into it, attach
  to it, read its logs or its environment values, or change its lifecycle.
- a **protected volume** is one labelled ``berth.protected=true`` or mounted by a protected container. Only admins
  may mount it into a new container.
- a container whose **body is admin-only** (privileged, added capabilities, devices, host namespaces, host bind
  mounts — the Docker socket among them — or a protected volume) needs the admin's permission for a terminal: a
  shell in it reaches what the create policy would have refused the operator.

The same functions serve the panel (page, handler, dispatch) and the worker (actor), each with what it found itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker

from core.permissions import Permission, lowest_role, role_allows
from core.state.containers import COMPOSE_PROJECT_LABEL, ContainerRow

log = logging.getLogger(__name__)

PROTECTED_LABEL = 'berth.protected'
RESERVED_LABEL_PREFIX = 'berth.'
_CONTAINER_ID = re.compile(r'/containers/([0-9a-f]{64})/')
# Not CgroupnsMode: 'host' is the daemon's default on cgroup v1 hosts, and the create policy does not offer it
_HOST_MODES = ('NetworkMode', 'PidMode', 'IpcMode', 'UTSMode', 'UsernsMode')


def labelled_protected(labels: Mapping[str, Any] | None) -> bool:
    return str((labels or {}).get(PROTECTED_LABEL, '')).strip().lower() in ('true', '1', 'yes', 'on')


def own_container_id(mountinfo: Path = Path('/proc/self/mountinfo')) -> str:
    """The id of the container this process runs in ('' outside a container): Docker bind-mounts the container's
    own ``hostname``, ``hosts`` and ``resolv.conf`` from ``…/containers/<id>/``."""
    try:
        text = mountinfo.read_text()
    except OSError:
        return ''
    for line in text.splitlines():
        if ' /etc/hostname ' in line or ' /etc/hosts ' in line or ' /etc/resolv.conf ' in line:
            match = _CONTAINER_ID.search(line)
            if match:
                return match.group(1)
    return ''


@dataclass(kw_only=True, slots=True)
class Protection:
    """What this process knows of itself: its own container and that container's compose project."""

    own_container_ids: frozenset[str] = frozenset()
    own_projects: frozenset[str] = frozenset()

    @classmethod
    def discover(cls, client: docker.DockerClient | None, container_id: str | None = None) -> Protection:
        """Finds this process's own container (and its compose project) through the engine; blocking."""
        container_id = own_container_id() if container_id is None else container_id
        if not container_id:
            return cls()
        projects: frozenset[str] = frozenset()
        try:
            if client is None:
                raise docker.errors.DockerException('no engine client')
            labels = client.api.inspect_container(container_id).get('Config', {}).get('Labels') or {}
            project = labels.get(COMPOSE_PROJECT_LABEL)
            projects = frozenset({project}) if project else frozenset()
        except docker.errors.DockerException as error:  # another engine, or not reachable yet: the id still counts
            log.warning("could not inspect the panel's own container %s: %s", container_id[:12], error)
        return cls(own_container_ids=frozenset({container_id}), own_projects=projects)

    @classmethod
    def on_engine(cls, client: docker.DockerClient, container_id: str | None = None) -> Protection | None:
        """What this process owns on ``client``'s engine: its own container and compose project when the container
        is on that engine, nothing when it is not (Berth's containers there are those labelled); None when the engine
        cannot tell now (blocking)."""
        container_id = own_container_id() if container_id is None else container_id
        if not container_id:
            return cls()
        try:
            labels = client.api.inspect_container(container_id).get('Config', {}).get('Labels') or {}
        except docker.errors.NotFound:
            return cls()
        except docker.errors.DockerException as error:
            log.warning("could not look for this process's own container %s: %s", container_id[:12], error)
            return None
        project = labels.get(COMPOSE_PROJECT_LABEL)
        return cls(own_container_ids=frozenset({container_id}), own_projects=frozenset({project} if project else ()))

    def adopt(self, found: Protection) -> None:
        """Takes what :meth:`discover` found (at start, once the engine answers), keeping this shared object."""
        self.own_container_ids, self.own_projects = found.own_container_ids, found.own_projects

    def container_is_protected(self, container_id: str, labels: Mapping[str, Any] | None) -> bool:
        return (
            container_id in self.own_container_ids
            or labelled_protected(labels)
            or str((labels or {}).get(COMPOSE_PROJECT_LABEL, '')) in self.own_projects
        )

    def volume_is_protected(self, labels: Mapping[str, Any] | None, users: Iterable[ContainerRow]) -> bool:
        """The panel's view of one volume, from the live state: labelled, or mounted by one of ``users`` (the
        containers that use it) that is protected. The worker looks again with :meth:`protected_volumes`."""
        return labelled_protected(labels) or any(self.container_is_protected(row.id, row.labels) for row in users)

    def protected_volumes(self, api: docker.APIClient) -> set[str]:
        """Names of every protected volume on the engine: labelled, or mounted by a protected container (blocking:
        one volume list and one container list)."""
        names = {
            str(volume['Name'])
            for volume in (api.volumes(filters={'label': PROTECTED_LABEL}) or {}).get('Volumes') or []
            if labelled_protected(volume.get('Labels'))
        }
        for summary in api.containers(all=True):
            if self.container_is_protected(str(summary.get('Id', '')), summary.get('Labels')):
                names.update(
                    str(mount['Name'])
                    for mount in summary.get('Mounts') or []
                    if mount.get('Type') == 'volume' and mount.get('Name')
                )
        return names

    def terminal_refusal(self, role: str, inspect: Mapping[str, Any], protected_volumes: Iterable[str] = ()) -> str:
        """Why ``role`` may not exec into or attach to this container ('' when it may)."""
        name = str(inspect.get('Name', '')).lstrip('/') or str(inspect.get('Id', ''))[:12]
        own = self.container_is_protected(str(inspect.get('Id', '')), (inspect.get('Config') or {}).get('Labels'))
        if own and not role_allows(role, Permission.BERTH_INTERNALS):
            needs = lowest_role(Permission.BERTH_INTERNALS)
            return f"{name} is one of Berth's own containers: a terminal in it needs the {needs} role"
        if role_allows(role, Permission.CONTAINER_BODY_ADMIN):
            return ''
        reasons = body_reasons(inspect, protected_volumes)
        if reasons:
            needs = lowest_role(Permission.CONTAINER_BODY_ADMIN)
            return f'a terminal in {name} needs the {needs} role: it has {", ".join(reasons)}'
        return ''

    def read_refusal(self, role: str, rows: Iterable[ContainerRow], what: str) -> str:
        """Why ``role`` may not read ``what`` (logs, environment values) of these containers ('' when it may)."""
        if role_allows(role, Permission.BERTH_INTERNALS):
            return ''
        names = [row.name for row in rows if self.container_is_protected(row.id, row.labels)]
        if not names:
            return ''
        return (
            f'reading the {what} of {", ".join(names)} needs the {lowest_role(Permission.BERTH_INTERNALS)} role: '
            f"{'they are' if len(names) > 1 else 'it is one'} of Berth's own containers"
        )


def body_reasons(inspect: Mapping[str, Any], protected_volumes: Iterable[str] = ()) -> list[str]:
    """What in a running container's body only an admin may create (the create side: core.commands.policy)."""
    host = inspect.get('HostConfig') or {}
    reasons: list[str] = []
    if host.get('Privileged'):
        reasons.append('privileged mode')
    if host.get('CapAdd'):
        reasons.append(f'added capabilities ({", ".join(host["CapAdd"])})')
    if host.get('Devices'):
        reasons.append('host devices')
    modes = [mode.removesuffix('Mode').lower() for mode in _HOST_MODES if host.get(mode) == 'host']
    if modes:
        reasons.append(f'the host {"/".join(modes)} namespace{"s" if len(modes) > 1 else ""}')
    mounts = inspect.get('Mounts') or []
    binds = [str(mount.get('Source', '')) for mount in mounts if mount.get('Type') == 'bind']
    if binds:
        reasons.append(f'host paths mounted ({", ".join(binds)})')
    guarded = set(protected_volumes)
    volumes = [
        str(mount.get('Name')) for mount in mounts if mount.get('Type') == 'volume' and mount.get('Name') in guarded
    ]
    if volumes:
        reasons.append(f"Berth's protected volumes mounted ({', '.join(volumes)})")
    return reasons
