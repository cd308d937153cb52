"""The volume row model the panel shows (who uses each: ``core.state.containers.containers_by``), what a prune would
remove, and sizes from the engine's disk usage."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.permissions import LOCAL_ENDPOINT, Scope
from core.protection import labelled_protected


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


def prune_candidates(volumes: Iterable[VolumeRow], in_use: Collection[str], *, anonymous_only: bool) -> list[VolumeRow]:
    """The volumes no container uses (``in_use``: names any container mounts, running or not), only the anonymous
    ones unless ``anonymous_only`` is False; never one labelled ``berth.protected`` (an admin removes those one by
    one)."""
    return sorted(
        (
            volume
            for volume in volumes
            if volume.name not in in_use
            and (volume.anonymous or not anonymous_only)
            and not labelled_protected(volume.labels)
        ),
        key=lambda volume: volume.name,
    )


def volume_sizes(disk_usage: Mapping[str, Any]) -> dict[str, int]:
    """Volume name → bytes, from ``GET /system/df``; a volume whose size the engine does not know (-1) is left out."""
    sizes = {}
    for volume in disk_usage.get('Volumes') or []:
        size = int((volume.get('UsageData') or {}).get('Size', -1))
        if size >= 0:
            sizes[str(volume.get('Name', ''))] = size
    return sizes
