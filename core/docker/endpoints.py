"""The Docker engines Berth talks to, by id, and a client factory per engine.

Today there is one endpoint, ``local``: ``DOCKER_HOST`` or the local socket. Everything that reaches an engine (the
state watcher, the commands' look-ups, streams, the worker's jobs) asks :class:`Endpoints` for it by id, so a second
engine is one more :class:`Endpoint` in the configuration.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import docker

from core.docker.client import make_client
from core.permissions import LOCAL_ENDPOINT
from core.settings import Settings


@dataclass(kw_only=True, slots=True, frozen=True)
class Endpoint:
    """One Docker engine: a stable id (in URLs, job payloads, streams), a name for people, and where it listens."""

    id: str
    name: str
    url: str | None = None  # None: the local socket

    def connect(self, timeout: int = 30, version: str | None = None) -> docker.DockerClient:
        """A new client of its own (the caller closes it): for a stream, or a job that holds a connection."""
        return make_client(self.url, timeout=timeout, version=version)


class UnknownEndpoint(LookupError):
    """An endpoint id this process does not know; ``str()`` is a sentence."""

    def __init__(self, endpoint_id: str, known: Iterable[str]) -> None:
        self.endpoint_id = endpoint_id
        self.known = tuple(known)
        super().__init__(f'unknown Docker endpoint "{endpoint_id}" (known here: {", ".join(self.known) or "none"})')


class Endpoints:
    """The endpoints this process serves, in order (the first is the default), and their shared clients."""

    def __init__(self, endpoints: Iterable[Endpoint]) -> None:
        self._endpoints = {endpoint.id: endpoint for endpoint in endpoints}
        if not self._endpoints:
            raise ValueError('at least one Docker endpoint is needed')
        self._clients: dict[str, docker.DockerClient] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Endpoints:
        """The one endpoint ``local``: ``DOCKER_HOST`` (or ``BERTH_DOCKER_HOST``), else the local socket."""
        return cls([Endpoint(id=LOCAL_ENDPOINT, name='local', url=settings.docker_host)])

    @property
    def default(self) -> Endpoint:
        return next(iter(self._endpoints.values()))

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._endpoints)

    def __iter__(self) -> Iterator[Endpoint]:
        return iter(tuple(self._endpoints.values()))

    def get(self, endpoint_id: str) -> Endpoint:
        """The endpoint, or :class:`UnknownEndpoint` with a sentence."""
        endpoint = self._endpoints.get(endpoint_id)
        if endpoint is None:
            raise UnknownEndpoint(endpoint_id, self._endpoints)
        return endpoint

    def client(self, endpoint_id: str = LOCAL_ENDPOINT) -> docker.DockerClient:
        """The endpoint's shared client, made on first use: for short calls (inspect, list) from any thread. Blocking
        the first time (it asks the engine's API version): call it off the event loop."""
        endpoint = self.get(endpoint_id)
        with self._lock:
            client = self._clients.get(endpoint.id)
            if client is None:
                client = self._clients[endpoint.id] = endpoint.connect()
            return client

    def connect(self, endpoint_id: str = LOCAL_ENDPOINT, timeout: int = 30) -> docker.DockerClient:
        """A new client for the endpoint that the caller closes (streams, jobs): never shared."""
        return self.get(endpoint_id).connect(timeout=timeout)

    def close(self) -> None:
        """Closes the shared clients; a later :meth:`client` makes a new one."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
