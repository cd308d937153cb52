"""GET /healthz: docker and broker state as JSON, no session needed, no secrets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import app, run

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services


def register(services: Services) -> None:
    @app.get('/healthz')
    async def healthz() -> dict[str, Any]:
        broker_ok, broker_message = await run.io_bound(services.bus.health) or (False, 'the panel is stopping')
        docker_ok = services.state.engine_ok
        return {
            'status': 'ok' if docker_ok and broker_ok else 'degraded',
            'docker': {'ok': docker_ok, 'message': 'connected' if docker_ok else 'Docker engine unreachable'},
            'broker': {
                'ok': broker_ok,
                'kind': services.bus.kind,
                'message': broker_message if broker_ok else 'job queue unreachable',
            },
            'containers': len(services.state.containers),
            'jobs_active': services.jobs.active_count,
        }
