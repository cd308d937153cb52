"""The broker, chosen once from the settings: Redis when ``REDIS_URL`` is set, else an in-memory broker for the worker
threads embedded in the panel. Nothing here runs at import: the panel (``system.build``) and the standalone worker
(``tasks/worker.py``) each make theirs."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from core.permissions import LOCAL_ENDPOINT
from core.settings import Settings

QUEUE = 'berth'  # container, image, volume, network and environment jobs
SANDBOX_QUEUE = 'berth-sandbox'  # sandbox runs: their own queue and threads, so they never delay the others


def queue_for(queue: str, endpoint: str) -> str:
    """The queue of ``endpoint``'s jobs of that kind (on Redis): ``berth`` for local, ``berth.<endpoint>`` for the
    others, so a worker started with ``BERTH_WORKER_ENDPOINTS`` takes only its endpoints' jobs."""
    return queue if endpoint == LOCAL_ENDPOINT else f'{queue}.{endpoint}'


def endpoint_queues(endpoint: str) -> list[str]:
    """Both queues of ``endpoint``'s jobs."""
    return [queue_for(queue, endpoint) for queue in (QUEUE, SANDBOX_QUEUE)]


def serve_only(broker: dramatiq.Broker, endpoints: list[str]) -> set[str]:
    """Declares the queues of ``endpoints`` on a worker's broker and drops every other one, so the worker consumes
    those alone; returns them."""
    wanted = {queue for endpoint in endpoints for queue in endpoint_queues(endpoint)}
    for queue in sorted(wanted):
        broker.declare_queue(queue)
    for queue in broker.get_declared_queues() - wanted:
        broker.queues.discard(queue) if isinstance(broker.queues, set) else broker.queues.pop(queue, None)
    return wanted


def serve_also(broker: dramatiq.Broker, endpoint: str) -> None:
    """Declares ``endpoint``'s queues on a worker's broker: a Dramatiq worker already running starts consuming a
    queue declared on its broker (its ``_WorkerMiddleware.after_declare_queue`` adds a consumer), so a host added in
    /admin/endpoints is served without a restart."""
    for queue in endpoint_queues(endpoint):
        broker.declare_queue(queue)


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
