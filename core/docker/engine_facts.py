"""What the dashboard says about an engine, from ``GET /info`` and ``GET /version``, and the disk usage by type from
``GET /system/df`` summed the way ``docker system df`` sums it (docker/cli ``cli/command/formatter/disk_usage.go``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(kw_only=True, slots=True, frozen=True)
class EngineFacts:
    name: str  # the engine's host name
    version: str
    api_version: str
    os: str
    kernel: str
    architecture: str
    cpus: int
    memory: int  # bytes
    storage_driver: str
    runtimes: tuple[str, ...]
    default_runtime: str

    @classmethod
    def from_api(cls, info: dict[str, Any], version: dict[str, Any]) -> EngineFacts:
        return cls(
            name=str(info.get('Name') or ''),
            version=str(version.get('Version') or info.get('ServerVersion') or ''),
            api_version=str(version.get('ApiVersion') or ''),
            os=str(info.get('OperatingSystem') or version.get('Os') or ''),
            kernel=str(info.get('KernelVersion') or version.get('KernelVersion') or ''),
            architecture=str(info.get('Architecture') or version.get('Arch') or ''),
            cpus=int(info.get('NCPU') or 0),
            memory=int(info.get('MemTotal') or 0),
            storage_driver=str(info.get('Driver') or ''),
            runtimes=tuple(sorted(str(name) for name in (info.get('Runtimes') or {}))),
            default_runtime=str(info.get('DefaultRuntime') or ''),
        )


@dataclass(kw_only=True, slots=True, frozen=True)
class DiskUsage:
    """One type's line of ``docker system df``."""

    kind: str  # 'Images', 'Containers', 'Local volumes', 'Build cache'
    total: int  # how many
    active: int  # how many are in use
    size: int  # bytes
    reclaimable: int  # bytes a prune could give back

    @property
    def in_use(self) -> int:
        return max(0, self.size - self.reclaimable)


def disk_usage(df: dict[str, Any]) -> list[DiskUsage]:
    """Images, containers, local volumes and build cache, as ``docker system df`` counts them."""
    images = df.get('Images') or []
    used_by_images = sum(
        int(image.get('Size') or 0) - int(image.get('SharedSize') or 0)
        for image in images
        if int(image.get('Containers') or 0) > 0 and int(image.get('SharedSize') or 0) != -1
    )
    layers = int(df.get('LayersSize') or 0)

    containers = df.get('Containers') or []
    active_containers = [c for c in containers if str(c.get('State') or '') in ('running', 'paused', 'restarting')]

    volumes = [v for v in df.get('Volumes') or [] if int((v.get('UsageData') or {}).get('Size', -1)) != -1]
    all_volumes = df.get('Volumes') or []

    cache = [entry for entry in df.get('BuildCache') or [] if not entry.get('Shared')]
    return [
        DiskUsage(
            kind='Images',
            total=len(images),
            active=sum(1 for image in images if int(image.get('Containers') or 0) > 0),
            size=layers,
            reclaimable=max(0, layers - used_by_images),
        ),
        DiskUsage(
            kind='Containers',
            total=len(containers),
            active=len(active_containers),
            size=sum(int(c.get('SizeRw') or 0) for c in containers),
            reclaimable=sum(int(c.get('SizeRw') or 0) for c in containers if c not in active_containers),
        ),
        DiskUsage(
            kind='Local volumes',
            total=len(all_volumes),
            active=sum(1 for v in all_volumes if int((v.get('UsageData') or {}).get('RefCount') or 0) > 0),
            size=sum(int(v['UsageData']['Size']) for v in volumes),
            reclaimable=sum(
                int(v['UsageData']['Size']) for v in volumes if not int(v['UsageData'].get('RefCount') or 0)
            ),
        ),
        DiskUsage(
            kind='Build cache',
            total=len(df.get('BuildCache') or []),
            active=sum(1 for entry in df.get('BuildCache') or [] if entry.get('InUse')),
            size=sum(int(entry.get('Size') or 0) for entry in cache),
            reclaimable=sum(int(entry.get('Size') or 0) for entry in cache if not entry.get('InUse')),
        ),
    ]
