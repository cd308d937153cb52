"""The image row model the panel shows, what a prune would remove, and size/date formats."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.permissions import LOCAL_ENDPOINT, Scope
from core.state.containers import parse_time


@dataclass(kw_only=True, slots=True)
class ImageRow:
    """What the panel shows of one image; built from the image list or from inspect data."""

    id: str
    tags: list[str] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)
    size: int = 0
    created: float = 0.0
    labels: dict[str, str] = field(default_factory=dict)
    endpoint: str = LOCAL_ENDPOINT

    @property
    def short_id(self) -> str:
        return self.id.removeprefix('sha256:')[:12]

    @property
    def scope(self) -> Scope:
        return Scope.of(self.labels, self.endpoint)

    @property
    def dangling(self) -> bool:
        """No tag points at it any more (``<none>:<none>`` in ``docker images``)."""
        return not self.tags

    @property
    def title(self) -> str:
        """The first tag, or the short id for an untagged image."""
        return self.tags[0] if self.tags else f'<none> ({self.short_id})'

    @classmethod
    def from_summary(cls, data: dict[str, Any], endpoint: str = LOCAL_ENDPOINT) -> ImageRow:
        """From one entry of ``GET /images/json``."""
        return cls(
            id=str(data['Id']),
            tags=_tags(data.get('RepoTags')),
            digests=_tags(data.get('RepoDigests')),
            size=int(data.get('Size') or 0),
            created=float(data.get('Created') or 0),
            labels={str(key): str(value) for key, value in (data.get('Labels') or {}).items()},
            endpoint=endpoint,
        )

    @classmethod
    def from_inspect(cls, data: dict[str, Any], endpoint: str = LOCAL_ENDPOINT) -> ImageRow:
        """From ``GET /images/{name}/json``."""
        created = parse_time(str(data.get('Created') or ''))
        labels = (data.get('Config') or {}).get('Labels') or {}
        return cls(
            id=str(data['Id']),
            tags=_tags(data.get('RepoTags')),
            digests=_tags(data.get('RepoDigests')),
            size=int(data.get('Size') or 0),
            created=created.timestamp() if created else 0.0,
            labels={str(key): str(value) for key, value in labels.items()},
            endpoint=endpoint,
        )


def _tags(values: Iterable[str] | None) -> list[str]:
    return sorted(str(value) for value in values or [] if value and not str(value).startswith('<none>'))


def prune_candidates(images: Iterable[ImageRow], used_image_ids: set[str], *, unused: bool) -> list[ImageRow]:
    """What ``docker image prune`` (or ``prune -a`` when ``unused``) would remove: images no container uses,
    dangling ones only unless ``unused``."""
    return sorted(
        (image for image in images if image.id not in used_image_ids and (unused or image.dangling)),
        key=lambda image: (-image.size, image.title),
    )


def format_size(size: float) -> str:
    """Bytes as docker prints them (decimal units): '1.98 MB', '357 MB', '0 B'."""
    for unit, scale in (('GB', 1e9), ('MB', 1e6), ('kB', 1e3)):
        if size >= scale:
            value = size / scale
            return f'{value:.3g} {unit}' if value < 100 else f'{value:.0f} {unit}'
    return f'{int(size)} B'


def format_created(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).strftime('%Y-%m-%d %H:%M') if created else ''
