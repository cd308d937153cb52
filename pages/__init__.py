"""One module per route group; each has ``register(services)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import (
    admin,
    container_detail,
    containers,
    create_container,
    dashboard,
    health,
    image_detail,
    images,
    job_detail,
    jobs,
    logs,
    networks,
    terminal,
    volumes,
)

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services


def register(services: Services) -> None:
    health.register(services)
    dashboard.register(services)
    containers.register(services)
    create_container.register(services)  # before /containers/{name_or_id}, which would take 'new'
    container_detail.register(services)
    images.register(services)
    image_detail.register(services)
    volumes.register(services)
    networks.register(services)
    jobs.register(services)
    job_detail.register(services)
    admin.register(services)
    terminal.register(services)
    logs.register(services)
