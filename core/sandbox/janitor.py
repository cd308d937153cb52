"""Nothing is left behind: run containers whose worker died (or whose panel did) are found by their label and removed
once their deadline has passed — when a worker starts, and then periodically. A run that a live worker still runs is
never past its deadline: the worker kills it at its time limit, well before."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from contextlib import closing

import docker

from core.docker.client import describe_error
from core.docker.endpoints import Endpoint
from core.sandbox.container import DEADLINE_LABEL, SANDBOX_LABEL

log = logging.getLogger(__name__)


def sweep(api: docker.APIClient, now: float | None = None) -> list[str]:
    """Removes every run container past its deadline (or without one); returns their names."""
    now = time.time() if now is None else now
    removed = []
    for container in api.containers(all=True, filters={'label': f'{SANDBOX_LABEL}=1'}):
        labels = container.get('Labels') or {}
        try:
            deadline = float(labels.get(DEADLINE_LABEL) or 0)
        except ValueError:
            deadline = 0.0
        if deadline > now:
            continue
        name = (container.get('Names') or [container['Id'][:12]])[0].lstrip('/')
        try:
            api.remove_container(container['Id'], force=True)
            removed.append(name)
        except docker.errors.NotFound:
            pass  # its worker removed it meanwhile
        except docker.errors.APIError as error:
            if error.status_code != 409:  # 409: a removal is already in progress
                log.warning('could not remove the sandbox container %s: %s', name, describe_error(error))
    return removed


class Janitor:
    """A thread that sweeps every endpoint at once, then every ``period`` seconds, until :meth:`stop`."""

    def __init__(self, endpoints: Iterable[Endpoint], period: float) -> None:
        self.endpoints = endpoints  # iterated at each sweep: an Endpoints object gives the hosts known then
        self.period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name='berth-sandbox-janitor', daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def sweep_once(self) -> None:
        for endpoint in self.endpoints:
            try:
                with closing(endpoint.connect(timeout=30)) as client:
                    removed = sweep(client.api)
            except docker.errors.DockerException as error:
                log.warning('sandbox janitor: engine %s unreachable: %s', endpoint.id, describe_error(error))
                continue
            if removed:
                log.info('removed %d sandbox containers left behind on %s: %s', len(removed), endpoint.id, removed)

    def _run(self) -> None:
        while True:
            self.sweep_once()
            if self._stop.wait(self.period):
                return
