"""A standalone worker's endpoints kept in step with the panel's: those of its settings (``DOCKER_HOST``,
``BERTH_ENDPOINTS``) and those admins store in ``/admin/endpoints`` — read from the same database and unsealed with the
same key (``BERTH_SECRET_KEY``, or the key file of a shared ``BERTH_DATA_DIR``).

:class:`EndpointSync` reads the ``endpoints`` table at start, every few seconds (only the ids and save times, unsealing
only after a change), and at once when a job names an endpoint the worker does not know yet. Each endpoint the worker
comes to serve is handed to ``on_served`` (the worker declares that endpoint's queues: a running Dramatiq worker
starts consuming a queue declared on its broker). A worker with ``BERTH_WORKER_ENDPOINTS`` serves those ids alone,
whenever they appear; without it, every endpoint it knows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from core.docker.endpoint_store import StoredEndpoints
from core.docker.endpoints import Endpoint, Endpoints, EndpointSource
from core.settings import Settings
from core.storage import make_database
from core.storage.credentials import SecretBox

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0


def apply_stored(endpoints: Endpoints, stored: Iterable[Endpoint], served: frozenset[str] | None = None) -> list[str]:
    """Puts the stored endpoints into ``endpoints`` (never over one the settings define; with ``served``, only those
    ids) and removes stored ones no longer in the table; returns the ids added or changed."""
    wanted = {endpoint.id: endpoint for endpoint in stored if served is None or endpoint.id in served}
    changed = []
    for endpoint in endpoints:
        if endpoint.source is EndpointSource.STORED and endpoint.id not in wanted:
            endpoints.remove(endpoint.id)
    for endpoint_id, endpoint in wanted.items():
        if endpoint_id in endpoints:
            current = endpoints.get(endpoint_id)
            if current.source is EndpointSource.SETTINGS:
                log.warning('endpoint "%s" from /admin/endpoints is not used: the settings define that id', endpoint_id)
                continue
            if current == endpoint:
                continue
        endpoints.put(endpoint)
        changed.append(endpoint_id)
    return changed


class EndpointSync:
    """The endpoints a standalone worker serves, and the thread that keeps them in step with the database."""

    def __init__(
        self,
        settings: Settings,
        *,
        open_store: Callable[[], StoredEndpoints | None] | None = None,
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        self.settings = settings
        self.served = frozenset(settings.worker_endpoint_ids) or None  # None: every endpoint this worker knows
        configured = Endpoints.from_settings(settings)
        self.endpoints = Endpoints(
            endpoint for endpoint in configured if self.served is None or endpoint.id in self.served
        )
        self._open_store = open_store or (lambda: open_stored_endpoints(settings))
        self._store: StoredEndpoints | None = None
        self._version: object = None
        self._lock = threading.Lock()
        self._listeners: list[Callable[[str], object]] = []
        self.refresh_seconds = refresh_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def queue_endpoints(self) -> list[str]:
        """The endpoints whose queues this worker consumes: ``BERTH_WORKER_ENDPOINTS`` (known yet or not), else every
        endpoint it knows."""
        return sorted(self.served) if self.served is not None else list(self.endpoints.ids)

    def on_served(self, listener: Callable[[str], object]) -> None:
        """``listener(endpoint_id)`` for each endpoint this worker comes to serve after :meth:`reload`."""
        self._listeners.append(listener)

    @property
    def reads_database(self) -> bool:
        return self._store is not None

    def reload(self) -> list[str]:
        """Reads the stored endpoints again (unsealing them only when the table changed); returns the ids added or
        changed. A database or key that cannot be had yet is a log line: the settings' endpoints still serve."""
        with self._lock:
            try:
                if self._store is None:
                    self._store = self._open_store()
                if self._store is None:
                    return []
                version = self._store.version()
                if version == self._version:
                    return []
                before = set(self.endpoints.ids)
                changed = apply_stored(self.endpoints, self._store.load(), self.served)
                self._version = version
            except Exception as error:
                log.warning('could not read the endpoints stored in /admin/endpoints: %s', error)
                return []
        for endpoint_id in changed:
            if endpoint_id not in before:
                log.info('now serving Docker endpoint "%s" (added in /admin/endpoints)', endpoint_id)
                for listener in list(self._listeners):
                    listener(endpoint_id)
        return changed

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name='endpoint-sync', daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.refresh_seconds):
            self.reload()


def open_stored_endpoints(settings: Settings) -> StoredEndpoints | None:
    """The panel's ``endpoints`` table, if this worker shares its database (``BERTH_DATABASE_URL``, or the SQLite file
    of a shared ``BERTH_DATA_DIR``) and its key; None otherwise (an agent needs nothing but Redis)."""
    if not settings.database_url and not settings.database_path.exists():
        return None
    box = SecretBox.from_settings(settings, create=False)
    if box is None:
        log.warning(
            'endpoints stored in /admin/endpoints are not read: this worker has no key to unseal them '
            "(give it the panel's BERTH_SECRET_KEY)"
        )
        return None
    return StoredEndpoints(make_database(settings), box)
