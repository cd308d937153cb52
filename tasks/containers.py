"""Container lifecycle actors."""

from __future__ import annotations

from typing import Any

import dramatiq

from core.docker.client import describe_error
from core.operations.containers import run_container_action

from .broker import QUEUE
from .context import JobReporter, admitted, context


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=5 * 60 * 1000)
@admitted
def container_action(job: dict[str, Any], action: str, container_id: str, params: dict[str, Any]) -> None:
    """Start, stop, restart, pause, resume, kill or remove one container, reporting through the bus.

    Not retried: the daemon's answer to a failed action (not found, already stopped) would only repeat.
    """
    worker_context = context()
    with JobReporter(worker_context.bus, job) as reporter:
        try:
            client = worker_context.docker()
            try:
                done = run_container_action(client, action, container_id, params)
            finally:
                client.close()
        except Exception as error:  # every failure becomes a failed job with a sentence
            reporter.publish('failed', describe_error(error))
            return
        reporter.publish('succeeded', done)
