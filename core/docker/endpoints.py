"""The Docker engines Berth talks to, by id, and a client factory per engine.

The default endpoint is ``local`` (``DOCKER_HOST`` or the local socket); ``BERTH_ENDPOINTS`` adds more, and admins add,
change and remove others in ``/admin/endpoints`` (stored encrypted: core/docker/endpoint_store.py). Everything that
reaches an engine (the state watchers, the commands' look-ups, streams, the worker's jobs) asks :class:`Endpoints` for
it by id; listeners hear of every change (the panel starts or stops that endpoint's watcher).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

import docker

from core.docker.client import make_client
from core.docker.endpoint_spec import EndpointKind, TlsMaterial, kind_of, parse_endpoints_setting
from core.errors import clip
from core.permissions import LOCAL_ENDPOINT
from core.settings import Settings

log = logging.getLogger(__name__)


class EndpointSource(StrEnum):
    SETTINGS = 'settings'  # DOCKER_HOST or BERTH_ENDPOINTS: changed only in the configuration
    STORED = 'stored'  # added in /admin/endpoints


@dataclass(kw_only=True, slots=True, frozen=True)
class Endpoint:
    """One Docker engine: a stable id (in URLs, job payloads, streams), a name for people, and where it listens."""

    id: str
    name: str
    url: str | None = None  # None: the local socket
    tls: TlsMaterial | None = field(default=None, repr=False)  # mutual TLS for tcp://
    insecure: bool = False  # plain TCP without TLS, confirmed by whoever configured it
    ssh_key: str = field(default='', repr=False)  # for ssh://: the private key (else the ssh client's own setup)
    known_hosts: str = ''  # for ssh://: the host's key line(s); when given, no other host key is accepted
    source: EndpointSource = EndpointSource.SETTINGS

    @property
    def kind(self) -> EndpointKind:
        return kind_of(self.url, tls=self.tls is not None)

    @property
    def address(self) -> str:
        """Where it listens, for people (never the key material)."""
        return self.url or 'unix:///var/run/docker.sock'

    def connect(self, timeout: int = 30, version: str | None = None) -> docker.DockerClient:
        """A new client of its own (the caller closes it): for a stream, or a job that holds a connection."""
        return make_client(
            self.url, timeout=timeout, version=version, tls=self.tls, ssh_key=self.ssh_key, known_hosts=self.known_hosts
        )


class UnknownEndpoint(LookupError):
    """An endpoint id this process does not know; ``str()`` is a sentence."""

    def __init__(self, endpoint_id: str, known: Iterable[str]) -> None:
        self.endpoint_id = endpoint_id
        self.known = tuple(known)
        super().__init__(
            f'unknown Docker endpoint "{clip(endpoint_id)}" (known here: {", ".join(self.known) or "none"})'
        )


class Endpoints:
    """The endpoints this process serves, in order (the first is the default), and their shared clients."""

    def __init__(self, endpoints: Iterable[Endpoint]) -> None:
        self._endpoints = {endpoint.id: endpoint for endpoint in endpoints}  # empty: a worker waiting for its hosts
        self._clients: dict[str, docker.DockerClient] = {}
        self._lock = threading.Lock()
        self._listeners: list[Callable[[str], object]] = []

    @classmethod
    def from_settings(cls, settings: Settings) -> Endpoints:
        """``local`` (``DOCKER_HOST`` or ``BERTH_DOCKER_HOST``, else the local socket; an entry of ``BERTH_ENDPOINTS``
        with the id ``local`` replaces it), then the other entries of ``BERTH_ENDPOINTS`` in their order. A bad entry
        raises :class:`~core.docker.endpoint_spec.EndpointError` with a sentence."""
        endpoints = {LOCAL_ENDPOINT: Endpoint(id=LOCAL_ENDPOINT, name='local', url=settings.docker_host)}
        for definition in parse_endpoints_setting(settings.endpoints):
            endpoints[definition['id']] = Endpoint(
                id=definition['id'],
                name=definition['name'],
                url=definition['url'],
                tls=definition['tls'],
                insecure=definition['insecure'],
                ssh_key=definition['ssh_key'],
                known_hosts=definition['known_hosts'],
            )
        return cls(endpoints.values())

    def subscribe(self, listener: Callable[[str], object]) -> Callable[[], None]:
        """``listener(endpoint_id)`` after an endpoint is added, changed or removed (from the thread that did it)."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def put(self, endpoint: Endpoint) -> None:
        """Adds or replaces an endpoint; its shared client is made again on next use."""
        with self._lock:
            self._endpoints[endpoint.id] = endpoint
            old = self._clients.pop(endpoint.id, None)
        if old is not None:
            old.close()
        self._changed(endpoint.id)

    def remove(self, endpoint_id: str) -> None:
        """Forgets an endpoint (never ``local``)."""
        if endpoint_id == LOCAL_ENDPOINT:
            raise ValueError('the local endpoint cannot be removed')
        with self._lock:
            known = self._endpoints.pop(endpoint_id, None)
            old = self._clients.pop(endpoint_id, None)
        if old is not None:
            old.close()
        if known is not None:
            self._changed(endpoint_id)

    def __contains__(self, endpoint_id: object) -> bool:
        return endpoint_id in self._endpoints

    def _changed(self, endpoint_id: str) -> None:
        for listener in list(self._listeners):
            try:
                listener(endpoint_id)
            except Exception:
                log.exception('endpoint listener failed')

    @property
    def default(self) -> Endpoint:
        for endpoint in self._endpoints.values():
            return endpoint
        raise UnknownEndpoint('(default)', ())

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._endpoints)

    def only(self, endpoint_ids: Iterable[str]) -> Endpoints:
        """These endpoints alone (a worker's ``BERTH_WORKER_ENDPOINTS``); an id not defined here is a sentence."""
        return Endpoints([self.get(endpoint_id) for endpoint_id in endpoint_ids])

    def __iter__(self) -> Iterator[Endpoint]:
        return iter(tuple(self._endpoints.values()))

    def get(self, endpoint_id: str) -> Endpoint:
        """The endpoint, or :class:`UnknownEndpoint` with a sentence."""
        endpoint = self._endpoints.get(endpoint_id)
        if endpoint is None:
            raise UnknownEndpoint(endpoint_id, tuple(self._endpoints))
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
