"""One module per route group; each has ``register(services)``."""
from __future__ import annotations

from core.services import Services

from . import admin, container_detail, containers, health, jobs


def register(services: Services) -> None:
    health.register(services)
    containers.register(services)
    container_detail.register(services)
    jobs.register(services)
    admin.register(services)
