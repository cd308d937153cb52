"""The network row model the panel shows (who is connected: ``core.state.containers.containers_by``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.permissions import LOCAL_ENDPOINT

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
