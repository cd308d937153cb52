"""GET /healthz (what is up: 200, or 503 naming what is down) and GET /livez (the process serves: the container
HEALTHCHECK). No session needed; they say up or down and nothing else: no versions, addresses, paths or errors."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from fastapi.responses import JSONResponse
from nicegui import app, run

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

CHECK_SECONDS = 5.0  # a database or Redis that does not answer within this is down


def register(services: Services) -> None:
    @app.get('/healthz')
    async def healthz() -> JSONResponse:
        report = await health_report(services)
        return JSONResponse(report, status_code=200 if report['status'] == 'ok' else 503)

    @app.get('/livez')
    async def livez() -> dict[str, str]:
        return {'status': 'ok'}


async def health_report(services: Services) -> dict[str, Any]:
    """Every part the panel needs: each endpoint's engine (from the live state: no request to it), the job queue (a
    ping to Redis, or the embedded broker), the database (a query); ``down`` names those that are not up."""
    broker_ok, database_ok = await asyncio.gather(
        _answers(services.bus.health), _answers(lambda: (services.database.ping(), ''))
    )
    engines = {endpoint.id: _engine(services, endpoint.id) for endpoint in services.endpoints}
    down = [f'docker {endpoint}' for endpoint, engine in engines.items() if not engine['ok']]
    down += [part for part, ok in (('broker', broker_ok), ('database', database_ok)) if not ok]
    return {
        'status': 'degraded' if down else 'ok',
        'down': down,
        'docker': {
            'ok': all(engine['ok'] for engine in engines.values()),
            'message': 'connected' if all(engine['ok'] for engine in engines.values()) else 'Docker engine unreachable',
            'endpoints': engines,
        },
        'broker': {
            'ok': broker_ok,
            'kind': services.bus.kind,
            'message': 'ok' if broker_ok else 'job queue unreachable',
        },
        'database': {'ok': database_ok, 'message': 'ok' if database_ok else 'database unreachable'},
        'containers': len(services.state.containers),
        'jobs_active': services.jobs.active_count,
    }


def _engine(services: Services, endpoint: str) -> dict[str, Any]:
    status = services.state.hosts.get(endpoint)  # its watcher's last word: connected, or unreachable since …
    ok = status is not None and status.ok
    return {'ok': ok, 'message': 'connected' if ok else 'Docker engine unreachable'}


async def _answers(check: Any) -> bool:
    """Runs a blocking ``check`` (→ (ok, message)) off the loop; False when it says so, fails or takes too long."""
    try:
        answer = await asyncio.wait_for(run.io_bound(check), CHECK_SECONDS)
    except TimeoutError:
        return False
    return bool(answer and answer[0])
