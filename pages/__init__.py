"""One module per route group; each has ``register(services)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import (
    admin,
    admin_endpoints,
    admin_host_roles,
    admin_quotas,
    admin_runtimes,
    admin_templates,
    container_detail,
    containers,
    create_container,
    dashboard,
    environments,
    health,
    image_detail,
    images,
    job_detail,
    jobs,
    logs,
    network_detail,
    networks,
    recordings,
    sandbox,
    stack_detail,
    stacks,
    terminal,
    volume_detail,
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
    volume_detail.register(services)
    networks.register(services)
    network_detail.register(services)
    jobs.register(services)
    job_detail.register(services)
    admin.register(services)
    admin_templates.register(services)
    admin_quotas.register(services)
    admin_runtimes.register(services)
    admin_endpoints.register(services)
    admin_host_roles.register(services)
    environments.register(services)
    terminal.register(services)
    logs.register(services)
    recordings.register(services)
    sandbox.register(services)
    stacks.register(services)
    stack_detail.register(services)
