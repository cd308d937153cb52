"""The broker, chosen once from the settings: Redis when ``REDIS_URL`` is set, else an in-memory broker for the worker
threads embedded in the panel. Nothing here runs at import: the panel (``system.build``) and the standalone worker
(``tasks/worker.py``) each make theirs."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from core.settings import Settings

QUEUE = 'berth'  # container, image, volume, network and environment jobs
SANDBOX_QUEUE = 'berth-sandbox'  # sandbox runs: their own queue and threads, so they never delay the others


def make_broker(settings: Settings) -> dramatiq.Broker:
    if settings.redis_url:
        # a worker that dies mid-job has its unacknowledged message re-queued after the heartbeat timeout
        return RedisBroker(url=settings.redis_url, namespace='berth', heartbeat_timeout=20_000)
    return StubBroker()


def start_worker(broker: dramatiq.Broker, threads: int, queues: set[str] | None = None) -> dramatiq.Worker:
    """The embedded default: worker threads inside the panel process, same actors, same code path; ``queues`` limits
    the threads to those queues (the panel starts one worker for ``QUEUE`` and one for ``SANDBOX_QUEUE``)."""
    worker = dramatiq.Worker(broker, queues=queues, worker_threads=threads, worker_timeout=100)
    worker.start()
    return worker
