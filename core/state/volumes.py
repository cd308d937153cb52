"""The volume row model the panel shows, and which containers use each volume (from the container rows alone: never
one inspect per volume)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from core.permissions import LOCAL_ENDPOINT, Scope
from core.state.containers import ContainerRow


@dataclass(kw_only=True, slots=True)
class VolumeRow:
    name: str
    driver: str = 'local'
    mountpoint: str = ''
    created: str = ''
    scope: str = 'local'  # the engine's own word: 'local' or 'global'
    labels: dict[str, str] = field(default_factory=dict)
    endpoint: str = LOCAL_ENDPOINT

    @classmethod
    def from_inspect(cls, data: dict[str, Any], endpoint: str = LOCAL_ENDPOINT) -> VolumeRow:
        """From ``GET /volumes`` (one entry) or ``GET /volumes/{name}``: the same shape."""
        return cls(
            name=str(data.get('Name', '')),
            driver=str(data.get('Driver') or 'local'),
            mountpoint=str(data.get('Mountpoint') or ''),
            created=str(data.get('CreatedAt') or ''),
            scope=str(data.get('Scope') or 'local'),
            labels={str(key): str(value) for key, value in (data.get('Labels') or {}).items()},
            endpoint=endpoint,
        )

    @property
    def anonymous(self) -> bool:
        """A volume the engine named itself (64 hex characters): made by a container's VOLUME, not by a person."""
        return len(self.name) == 64 and all(character in '0123456789abcdef' for character in self.name)

    @property
    def access_scope(self) -> Scope:
        return Scope.of(self.labels, self.endpoint)


def volume_users(containers: Iterable[ContainerRow]) -> dict[str, list[ContainerRow]]:
    """Volume name → the containers (any state) that mount it, by name."""
    users: dict[str, list[ContainerRow]] = {}
    for row in containers:
        for volume in row.volumes:
            users.setdefault(volume, []).append(row)
    for rows in users.values():
        rows.sort(key=lambda row: row.name)
    return users
