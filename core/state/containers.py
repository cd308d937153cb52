"""The container row model the panel shows, built from the daemon's inspect data, and its time formats."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from core.permissions import LOCAL_ENDPOINT, Scope

COMPOSE_PROJECT_LABEL = 'com.docker.compose.project'


class ContainerState(StrEnum):
    """A container's ``State.Status`` as the daemon reports it."""

    RUNNING = 'running'
    PAUSED = 'paused'
    RESTARTING = 'restarting'
    EXITED = 'exited'
    CREATED = 'created'
    DEAD = 'dead'
    REMOVING = 'removing'


@dataclass(kw_only=True, slots=True)
class ContainerRow:
    """What the panel shows of one container; built from the daemon's inspect data."""

    id: str
    name: str
    image: str
    state: str
    health: str = ''
    exit_code: int = 0
    started_at: str = ''
    finished_at: str = ''
    created: str = ''
    ports: list[str] = field(default_factory=list)
    project: str = ''
    labels: dict[str, str] = field(default_factory=dict)
    image_id: str = ''
    volumes: list[str] = field(default_factory=list)  # names of the volumes it mounts
    networks: list[str] = field(default_factory=list)  # names of the networks it is connected to
    endpoint: str = LOCAL_ENDPOINT
    cpus: float = 0.0  # its CPU limit (HostConfig.NanoCpus); 0: none
    memory_limit: int = 0  # its memory limit in bytes (HostConfig.Memory); 0: none

    @classmethod
    def from_inspect(cls, data: dict[str, Any], endpoint: str = LOCAL_ENDPOINT) -> ContainerRow:
        state = data.get('State') or {}
        config = data.get('Config') or {}
        health = (state.get('Health') or {}).get('Status', '')
        labels = config.get('Labels') or {}
        return cls(
            id=data['Id'],
            name=str(data.get('Name', '')).lstrip('/'),
            image=str(config.get('Image') or data.get('Image', '')),
            state=str(state.get('Status', 'unknown')),
            health=str(health),
            exit_code=int(state.get('ExitCode') or 0),
            started_at=str(state.get('StartedAt') or ''),
            finished_at=str(state.get('FinishedAt') or ''),
            created=str(data.get('Created') or ''),
            ports=format_ports((data.get('NetworkSettings') or {}).get('Ports') or {}),
            project=str(labels.get(COMPOSE_PROJECT_LABEL, '')),
            labels={str(k): str(v) for k, v in labels.items()},
            image_id=str(data.get('Image') or ''),
            volumes=sorted(
                str(mount['Name'])
                for mount in data.get('Mounts') or []
                if mount.get('Type') == 'volume' and mount.get('Name')
            ),
            networks=sorted(str(name) for name in ((data.get('NetworkSettings') or {}).get('Networks') or {})),
            endpoint=endpoint,
            cpus=float((data.get('HostConfig') or {}).get('NanoCpus') or 0) / 1e9,
            memory_limit=int((data.get('HostConfig') or {}).get('Memory') or 0),
        )

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def scope(self) -> Scope:
        """Where it lives and whom it belongs to, for the permission guard."""
        return Scope.of(self.labels, self.endpoint)

    def status_text(self, now: datetime | None = None) -> str:
        """Like the CLI's STATUS column: 'Up 5 minutes (healthy)', 'Exited (1) 2 hours ago'."""
        now = now or datetime.now(UTC)
        if self.state in (ContainerState.RUNNING, ContainerState.PAUSED):
            text = f'Up {humanize_since(self.started_at, now)}'
            if self.state == ContainerState.PAUSED:
                text += ' (Paused)'
            elif self.health:
                text += f' ({self.health})'
            return text
        if self.state == ContainerState.EXITED:
            return f'Exited ({self.exit_code}) {humanize_since(self.finished_at, now)} ago'
        return self.state.capitalize()


def format_ports(ports: dict[str, Any]) -> list[str]:
    """'0.0.0.0:8080->80/tcp' style strings from inspect's NetworkSettings.Ports."""
    result = []
    for container_port, bindings in sorted(ports.items()):
        if not bindings:
            result.append(container_port)
            continue
        for binding in bindings:
            result.append(f'{binding.get("HostIp") or "0.0.0.0"}:{binding.get("HostPort")}->{container_port}')
    return sorted(set(result))


def parse_time(value: str) -> datetime | None:
    if not value or value.startswith('0001-'):
        return None
    value = value.rstrip('Z')
    if '.' in value:
        head, fraction = value.split('.', 1)
        value = f'{head}.{fraction[:6]}'
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        return None


def humanize_since(value: str, now: datetime) -> str:
    moment = parse_time(value)
    if moment is None:
        return 'a while'
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in (('day', 86400), ('hour', 3600), ('minute', 60)):
        if seconds >= size:
            count = seconds // size
            return f'{count} {unit}{"s" if count != 1 else ""}'
    return 'Less than a second' if seconds < 1 else f'{seconds} second{"s" if seconds != 1 else ""}'


def containers_by(containers: Iterable[ContainerRow], attribute: str) -> dict[str, list[ContainerRow]]:
    """Volume or network name → the containers (any state, by name) whose ``volumes`` or ``networks`` list it: who
    uses what, from the container rows alone, never one inspect per volume or network."""
    users: dict[str, list[ContainerRow]] = {}
    for row in containers:
        for name in getattr(row, attribute):
            users.setdefault(name, []).append(row)
    for rows in users.values():
        rows.sort(key=lambda row: row.name)
    return users
