"""The standalone worker process (``dramatiq tasks``): settings read from the environment once, its broker, its
:class:`~tasks.context.WorkerContext`, and the actors declared on that broker."""

from __future__ import annotations

import logging

import dramatiq

from core.settings import Settings

from .actors import declare
from .broker import make_broker, serve_also, serve_only
from .context import WorkerContext

log = logging.getLogger(__name__)


def serve(settings: Settings) -> dramatiq.Broker:
    """Sets up this process's broker and makes it dramatiq's global one, which is the broker ``dramatiq tasks`` runs:
    it consumes the queues of the endpoints it serves (``BERTH_WORKER_ENDPOINTS``, else every endpoint of its settings
    and of /admin/endpoints) and no other; a host added in /admin/endpoints later has its queues consumed once the
    worker reads it (``core/docker/endpoint_sync.py``)."""
    if not settings.redis_url:
        raise RuntimeError(
            'dramatiq tasks needs REDIS_URL (the job queue it shares with the panel); without it the panel runs the '
            'jobs itself'
        )
    broker = make_broker(settings)
    context = WorkerContext.from_settings(settings)
    broker.add_middleware(context)
    declare(broker)
    assert context.sync is not None
    context.sync.reload()
    serve_only(broker, context.sync.queue_endpoints)
    waiting = [endpoint for endpoint in context.sync.queue_endpoints if endpoint not in context.endpoints]
    if waiting:  # BERTH_WORKER_ENDPOINTS names a host nobody defined yet: its jobs run once it is added in the page
        log.warning(
            'serving the queues of %s, not defined yet in BERTH_ENDPOINTS or /admin/endpoints%s',
            ', '.join(waiting),
            '' if context.sync.reads_database else " (and this worker cannot read the panel's database)",
        )
    context.sync.on_served(lambda endpoint: serve_also(broker, endpoint))
    dramatiq.set_broker(broker)
    return broker
