"""Compose's ``--progress json`` output, one event per line, folded into a deployment log per service and step.

Compose prints two shapes: ``{"id": "Container shop-web-1", "status": "Started"}`` for a resource (container,
network, volume, image) and ``{"id": "web", "text": "Pulling"}`` / ``{"id": "<layer>", "parent_id": "web", "text":
"Downloading", "current": …, "total": …}`` while pulling; ``{"error": true, "message": …}`` ends a failed run. Lines
that are not JSON (warnings) are kept as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from core.operations.pull import DONE, LayerProgress

STACK = ''  # the networks and volumes of the stack itself: no service
# the steps the page shows for a service, in the order compose reaches them
OK_STATES = ('Started', 'Running', 'Healthy', 'Pulled', 'Created', 'Recreated', 'Stopped', 'Removed', 'Skipped')


@dataclass(kw_only=True, slots=True)
class Event:
    """One line of compose's output, parsed."""

    resource: str = ''  # 'Container', 'Network', 'Volume', 'Image'; '' for a service (pull) or a layer
    name: str = ''  # the resource's name, the service's, or the layer's id
    parent: str = ''  # a layer's service
    status: str = ''  # 'Creating', 'Started', 'Pulling', 'Downloading', 'Error'…
    detail: str = ''  # compose's own words: an error, a progress bar
    current: int = 0
    total: int = 0
    error: bool = False
    text: str = ''  # a line that is not an event (a warning), as compose printed it


def parse_event(line: str) -> Event | None:
    """The event on ``line``; a plain-text line comes back as ``Event(text=…)``; an empty line as None."""
    line = line.strip()
    if not line:
        return None
    try:
        data = json.loads(line)
    except ValueError:
        return Event(text=line)
    if not isinstance(data, dict):
        return Event(text=line)
    if data.get('error') is True:
        return Event(error=True, status='Error', detail=str(data.get('message') or ''))
    identifier = str(data.get('id') or '')
    resource, _, name = identifier.partition(' ')
    if not name or 'parent_id' in data or 'text' in data:
        resource, name = '', identifier
    status = str((data.get('text') if 'text' in data else data.get('status')) or '')
    detail = str(data.get('status') or '') if 'text' in data else str(data.get('details') or '')
    return Event(
        resource=resource,
        name=name,
        parent=str(data.get('parent_id') or ''),
        status=status,
        detail=detail,
        current=int(data.get('current') or 0),
        total=int(data.get('total') or 0),
        error=status == 'Error',
    )


def service_of(container: str, project: str, container_names: dict[str, str] | None = None) -> str:
    """The service of a container compose named: ``shop-web-1`` → ``web`` (or a ``container_name`` the file set)."""
    if container_names and container in container_names:
        return container_names[container]
    stem = container.removeprefix(f'{project}-') if container.startswith(f'{project}-') else container
    head, _, number = stem.rpartition('-')
    return head if head and number.isdigit() else stem


@dataclass(kw_only=True, slots=True)
class ServiceLog:
    """One service's part of a run: its steps in order, where it is now, its image layers while pulling."""

    name: str
    state: str = ''
    steps: list[str] = field(default_factory=list)
    layers: dict[str, LayerProgress] = field(default_factory=dict)
    error: str = ''

    def step(self, status: str) -> bool:
        changed = status != self.state
        self.state = status
        if not self.steps or self.steps[-1] != status:
            self.steps.append(status)
        return changed

    @property
    def pull_fraction(self) -> float | None:
        """How far the service's image pull is (None when it pulls nothing)."""
        work = [layer for layer in self.layers.values() if layer.status != 'Already exists']
        if not self.layers:
            return None
        if not work:
            return 1.0
        return sum(layer.fraction for layer in work) / len(work)

    def to_dict(self) -> dict[str, Any]:
        return {
            'name': self.name,
            'state': self.state,
            'steps': list(self.steps),
            'error': self.error,
            'pull': self.pull_fraction,
            'layers': [
                {'id': layer.id, 'status': layer.status, 'current': layer.current, 'total': layer.total}
                for layer in self.layers.values()
            ],
        }


class DeployLog:
    """Folds compose's events into per-service logs and the job log's lines (one per step, never per byte)."""

    def __init__(self, project: str, container_names: dict[str, str] | None = None) -> None:
        self.project = project
        self.container_names = container_names or {}
        self.services: dict[str, ServiceLog] = {}
        self.errors: list[str] = []
        self._lines: list[str] = []
        self.changed = False

    def service(self, name: str) -> ServiceLog:
        found = self.services.get(name)
        if found is None:
            found = self.services[name] = ServiceLog(name=name)
        return found

    def feed(self, line: str) -> None:
        event = parse_event(line)
        if event is None:
            return
        self.changed = True
        if event.text:
            self._lines.append(event.text)
            return
        if event.error and not event.name:
            self.errors.append(event.detail)
            self._lines.append(f'error: {event.detail}')
            return
        if event.parent:  # a layer of a service's image
            service = self.service(event.parent)
            layer = service.layers.get(event.name)
            if layer is None:
                layer = service.layers[event.name] = LayerProgress(id=event.name, status=event.status)
                self._lines.append(f'{event.parent}: layer {event.name} {event.status}')
            elif layer.status != event.status:
                if event.status not in ('Downloading', 'Extracting') or layer.status not in (
                    'Downloading',
                    'Extracting',
                ):
                    self._lines.append(f'{event.parent}: layer {event.name} {event.status}')
                layer.status = event.status
            if event.current or event.total:
                layer.current, layer.total = event.current, event.total or layer.total
            if event.status in DONE:
                layer.current = layer.total
            return
        if event.resource == 'Container':
            service = self.service(service_of(event.name, self.project, self.container_names))
            label = f'{service.name}: {event.status}'
        elif event.resource:  # the stack's own networks and volumes, and images it removes
            service = self.service(STACK)
            label = f'{event.resource} {event.name}: {event.status}'
        else:  # a service's pull
            service = self.service(event.name)
            label = f'{event.name}: {event.status}'
        if event.error:
            service.error = event.detail
            self.errors.append(f'{service.name or event.name}: {event.detail}')
            label += f' ({event.detail})' if event.detail else ''
        if service.step(event.status) or event.error:
            self._lines.append(label)

    def take_lines(self) -> str:
        """The job log's new lines since the last call."""
        lines, self._lines = self._lines, []
        return '\n'.join(lines)

    def to_detail(self) -> dict[str, Any]:
        """What the stack page shows live: every service in the order compose first named it (the stack's own
        networks and volumes last)."""
        ordered = sorted(self.services.values(), key=lambda service: service.name == STACK)
        return {'services': [service.to_dict() for service in ordered], 'errors': list(self.errors)}
