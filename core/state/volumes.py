"""The volume row model the panel shows (who uses each: ``core.state.containers.containers_by``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.permissions import LOCAL_ENDPOINT, Scope


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
