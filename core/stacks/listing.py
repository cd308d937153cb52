"""The stacks as the pages list them: Berth's own (files under BERTH_DATA_DIR/stacks) and those the engine knows only by
their containers' ``com.docker.compose.project`` labels (made with the CLI elsewhere: external), with their status
counted from the live container rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from core.permissions import LOCAL_ENDPOINT
from core.state.containers import COMPOSE_PROJECT_LABEL, ContainerRow, ContainerState, parse_time

SERVICE_LABEL = 'com.docker.compose.service'
CONFIG_FILES_LABEL = 'com.docker.compose.project.config_files'
WORKING_DIR_LABEL = 'com.docker.compose.project.working_dir'
ONE_OFF_LABEL = 'com.docker.compose.oneoff'
MANAGED, EXTERNAL = 'managed', 'external'


@dataclass(kw_only=True, slots=True)
class StackRow:
    name: str
    source: str  # MANAGED or EXTERNAL
    endpoint: str = LOCAL_ENDPOINT
    containers: list[ContainerRow] = field(default_factory=list)
    services: list[str] = field(default_factory=list)  # from the containers, and the file's for a managed stack
    updated: float = 0.0  # the newest of the file's change and the containers' creation (seconds)

    @property
    def running(self) -> int:
        return sum(1 for row in self.containers if row.state == ContainerState.RUNNING)

    @property
    def status(self) -> str:
        if not self.containers:
            return 'not deployed'
        return f'running {self.running} of {len(self.containers)}'

    @property
    def images(self) -> list[str]:
        return sorted({row.image for row in self.containers})

    @property
    def config_files(self) -> list[str]:
        """The compose files its containers say they were made from (``project.config_files``)."""
        for row in self.containers:
            value = row.labels.get(CONFIG_FILES_LABEL, '')
            if value:
                return [part for part in value.split(',') if part]
        return []

    @property
    def working_dir(self) -> str:
        return next((row.labels[WORKING_DIR_LABEL] for row in self.containers if WORKING_DIR_LABEL in row.labels), '')

    def service_containers(self) -> dict[str, list[ContainerRow]]:
        grouped: dict[str, list[ContainerRow]] = {service: [] for service in self.services}
        for row in sorted(self.containers, key=lambda row: row.name):
            grouped.setdefault(row.labels.get(SERVICE_LABEL, row.name), []).append(row)
        return grouped


def stack_rows(
    containers: Iterable[ContainerRow],
    managed: Mapping[str, tuple[list[str], float]],  # name → (the file's services, when it changed)
    endpoint: str = LOCAL_ENDPOINT,
) -> list[StackRow]:
    """Every stack of ``endpoint``, Berth's (``managed``: those of that endpoint) and the engine's, by name (one-off
    ``compose run`` containers left out)."""
    rows: dict[str, StackRow] = {
        name: StackRow(name=name, source=MANAGED, endpoint=endpoint, services=list(services), updated=changed)
        for name, (services, changed) in managed.items()
    }
    for container in containers:
        project = container.labels.get(COMPOSE_PROJECT_LABEL, '')
        if not project or container.labels.get(ONE_OFF_LABEL) == 'True' or container.endpoint != endpoint:
            continue
        row = rows.get(project)
        if row is None:
            row = rows[project] = StackRow(name=project, source=EXTERNAL, endpoint=endpoint)
        row.containers.append(container)
        service = container.labels.get(SERVICE_LABEL, '')
        if service and service not in row.services:
            row.services.append(service)
    for row in rows.values():
        row.services.sort()
        created = [parse_seconds(container.created) for container in row.containers]
        row.updated = max([row.updated, *created])
    return sorted(rows.values(), key=lambda row: row.name)


def parse_seconds(value: str) -> float:
    moment = parse_time(value)
    return moment.timestamp() if moment else 0.0
