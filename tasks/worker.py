"""The standalone worker process (``dramatiq tasks``): settings read from the environment once, its broker, its
:class:`~tasks.context.WorkerContext`, and the actors declared on that broker."""

from __future__ import annotations

import dramatiq

from core.settings import Settings

from .actors import declare
from .broker import make_broker
from .context import WorkerContext


def serve(settings: Settings) -> dramatiq.Broker:
    """Sets up this process's broker and makes it dramatiq's global one, which is the broker ``dramatiq tasks`` runs."""
    if not settings.redis_url:
        raise RuntimeError(
            'dramatiq tasks needs REDIS_URL (the job queue it shares with the panel); without it the panel runs the '
            'jobs itself'
        )
    broker = make_broker(settings)
    broker.add_middleware(WorkerContext.from_settings(settings))
    declare(broker)
    dramatiq.set_broker(broker)
    return broker
