"""The network row model the panel shows (who is connected: ``core.state.containers.containers_by``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from core.permissions import LOCAL_ENDPOINT, Scope

BUILT_IN = ('bridge', 'host', 'none')  # the engine's own networks: never removed


@dataclass(kw_only=True, slots=True)
class NetworkRow:
    id: str
    name: str
    driver: str = ''
    scope: str = 'local'
    subnets: list[str] = field(default_factory=list)
    gateways: list[str] = field(default_factory=list)
    internal: bool = False
    attachable: bool = False
    created: str = ''
    labels: dict[str, str] = field(default_factory=dict)
    endpoint: str = LOCAL_ENDPOINT

    @classmethod
    def from_inspect(cls, data: dict[str, Any], endpoint: str = LOCAL_ENDPOINT) -> NetworkRow:
        """From ``GET /networks`` (one entry) or ``GET /networks/{id}``."""
        config = ((data.get('IPAM') or {}).get('Config')) or []
        return cls(
            id=str(data.get('Id', '')),
            name=str(data.get('Name', '')),
            driver=str(data.get('Driver') or ''),
            scope=str(data.get('Scope') or 'local'),
            subnets=[str(entry['Subnet']) for entry in config if entry.get('Subnet')],
            gateways=[str(entry['Gateway']) for entry in config if entry.get('Gateway')],
            internal=bool(data.get('Internal')),
            attachable=bool(data.get('Attachable')),
            created=str(data.get('Created') or ''),
            labels={str(key): str(value) for key, value in (data.get('Labels') or {}).items()},
            endpoint=endpoint,
        )

    @property
    def built_in(self) -> bool:
        return self.name in BUILT_IN

    @property
    def access_scope(self) -> Scope:
        """Where it lives and whom it belongs to, for the permission guard (``scope`` is the engine's own word)."""
        return Scope.of(self.labels, self.endpoint)


def find_network(networks: Iterable[NetworkRow], name_or_id: str, endpoint: str | None = None) -> NetworkRow | None:
    """A network by full id, exact name or unique id prefix (of at least 4 characters), on ``endpoint`` if given."""
    rows = [row for row in networks if endpoint is None or row.endpoint == endpoint]
    for row in rows:
        if name_or_id in (row.id, row.name):
            return row
    matches = [row for row in rows if len(name_or_id) >= 4 and row.id.startswith(name_or_id)]
    return matches[0] if len(matches) == 1 else None


def unused_networks(networks: Iterable[NetworkRow], in_use: Iterable[str]) -> list[NetworkRow]:
    """What a network prune removes: networks no container (in any state) lists, never the engine's own, by name.

    Stricter than ``docker network prune``, which also removes a network that only stopped containers are connected
    to (they then fail to start): here a stopped container keeps its network."""
    used = set(in_use)
    return sorted((row for row in networks if not row.built_in and row.name not in used), key=lambda row: row.name)
