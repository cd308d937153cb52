"""The live Docker state model (flow 1): one watcher per endpoint follows ``/events``; the model changes on the loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import docker
import docker.errors

from core.docker.client import describe_error
from core.docker.endpoints import Endpoint
from core.docker.raw import keep_alive
from core.handover import hand_over
from core.permissions import LOCAL_ENDPOINT
from core.state.containers import ContainerRow
from core.state.images import ImageRow
from core.state.liveness import EngineSilent, Liveness
from core.state.networks import NetworkRow
from core.state.volumes import VolumeRow

log = logging.getLogger(__name__)

IGNORED_ACTIONS = (
    'exec_create',
    'exec_start',
    'exec_die',
    'exec_detach',
    'top',
    'attach',
    'resize',
    'copy',
    'archive-path',
    'extract-to-dir',
    'export',
    'commit',
)
EXEC_ACTIONS = ('exec_create', 'exec_start', 'exec_die')  # activity in a container (idle stop), not a state change
IGNORED_IMAGE_ACTIONS = ('push', 'save', 'prune')  # nothing changes locally; a prune's deletes come as events


class ChangeKind(StrEnum):
    UPSERT = 'upsert'  # one container added or changed
    REMOVE = 'remove'  # one container gone
    RESET = 'reset'  # every container, after a full resync
    ENGINE = 'engine'  # the engine became reachable or unreachable
    IMAGE_UPSERT = 'image_upsert'
    IMAGE_REMOVE = 'image_remove'
    IMAGE_RESET = 'image_reset'
    VOLUME_UPSERT = 'volume_upsert'
    VOLUME_REMOVE = 'volume_remove'
    VOLUME_RESET = 'volume_reset'
    NETWORK_UPSERT = 'network_upsert'
    NETWORK_REMOVE = 'network_remove'
    NETWORK_RESET = 'network_reset'


CONTAINER_CHANGES = frozenset({ChangeKind.UPSERT, ChangeKind.REMOVE, ChangeKind.RESET})
IMAGE_CHANGES = frozenset({ChangeKind.IMAGE_UPSERT, ChangeKind.IMAGE_REMOVE, ChangeKind.IMAGE_RESET})
VOLUME_CHANGES = frozenset({ChangeKind.VOLUME_UPSERT, ChangeKind.VOLUME_REMOVE, ChangeKind.VOLUME_RESET})
NETWORK_CHANGES = frozenset({ChangeKind.NETWORK_UPSERT, ChangeKind.NETWORK_REMOVE, ChangeKind.NETWORK_RESET})


@dataclass(kw_only=True, slots=True, frozen=True)
class StateChange:
    """What changed (see :class:`ChangeKind`), on which endpoint, and which container or image when it is one."""

    kind: ChangeKind
    container_id: str = ''
    image_id: str = ''  # the image's key in DockerState.images (see state_key)
    volume: str = ''  # the volume's name (its key in DockerState.volumes is state_key(endpoint, name))
    network_id: str = ''
    endpoint: str = LOCAL_ENDPOINT


Listener = Callable[[StateChange], None]
ExecListener = Callable[[str, str, str], None]  # (container id, exec action, exec id)


def state_key(endpoint: str, name_or_id: str) -> str:
    """The key of an image or volume in :class:`DockerState`: its id (or name) on ``local``, ``endpoint/id``
    elsewhere, because two engines hold the same image id and the same volume names. Containers and networks are
    keyed by their ids alone: each engine makes them at random."""
    return name_or_id if endpoint == LOCAL_ENDPOINT else f'{endpoint}/{name_or_id}'


@dataclass(kw_only=True, slots=True)
class HostStatus:
    """One endpoint's connection as its watcher last saw it: connected, or unreachable since when (and retrying)."""

    endpoint: str
    ok: bool = False
    message: str = 'connecting to the Docker engine'
    since: float = field(default_factory=time.time)  # when it became what it is
    synced_at: float = 0.0  # the last full list
    engine_id: str = ''  # the engine's own id (``/info``), to tell one engine configured twice


class DockerState:
    """Containers, images, volumes and networks of every endpoint as their daemons report them (each row names its
    endpoint). Mutated on the event loop only; listeners run there too."""

    def __init__(self) -> None:
        self.containers: dict[str, ContainerRow] = {}
        self.images: dict[str, ImageRow] = {}  # by state_key(endpoint, id)
        self.volumes: dict[str, VolumeRow] = {}  # by state_key(endpoint, name)
        self.networks: dict[str, NetworkRow] = {}  # by id
        self.hosts: dict[str, HostStatus] = {}
        self._listeners: list[Listener] = []
        self._exec_listeners: list[ExecListener] = []
        # per endpoint: set by the first full list, or by the engine being unreachable
        self._first_sync: dict[str, asyncio.Event] = {}
        self.host(LOCAL_ENDPOINT)

    def host(self, endpoint: str = LOCAL_ENDPOINT) -> HostStatus:
        status = self.hosts.get(endpoint)
        if status is None:
            status = self.hosts[endpoint] = HostStatus(endpoint=endpoint)
        return status

    @property
    def engine_ok(self) -> bool:
        """Whether the local endpoint is connected."""
        return self.host().ok

    @property
    def engine_message(self) -> str:
        return self.host().message

    @property
    def synced_at(self) -> float:
        return self.host().synced_at

    def unreachable(self) -> list[HostStatus]:
        return [status for status in self.hosts.values() if not status.ok]

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Adds a listener; returns the function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def on_exec(self, listener: ExecListener) -> Callable[[], None]:
        """Adds a listener for exec events (``exec_create``, ``exec_start``, ``exec_die``), which change no row;
        returns the function that removes it."""
        self._exec_listeners.append(listener)
        return lambda: self._exec_listeners.remove(listener) if listener in self._exec_listeners else None

    def note_exec(self, container_id: str, action: str, exec_id: str) -> None:
        for listener in list(self._exec_listeners):
            try:
                listener(container_id, action, exec_id)
            except Exception:
                log.exception('exec listener failed')

    def find(self, name_or_id: str, endpoint: str | None = None) -> ContainerRow | None:
        """A container by exact name, full id or unique id prefix (on ``endpoint``, when given)."""
        row = self.containers.get(name_or_id)
        if row is not None and endpoint in (None, row.endpoint):
            return row
        rows = [row for row in self.containers.values() if endpoint is None or row.endpoint == endpoint]
        for row in rows:
            if row.name == name_or_id:
                return row
        if len(name_or_id) < 4:
            return None
        matches = [row for row in rows if row.id.startswith(name_or_id)]
        return matches[0] if len(matches) == 1 else None

    def replace_all(self, rows: list[ContainerRow], endpoint: str = LOCAL_ENDPOINT) -> None:
        """Every container of ``endpoint`` (the others' rows stay)."""
        kept = {key: row for key, row in self.containers.items() if row.endpoint != endpoint}
        self.containers = kept | {row.id: row for row in rows}
        self.host(endpoint).synced_at = time.time()
        self._first_sync_event(endpoint).set()
        self._emit(StateChange(kind=ChangeKind.RESET, endpoint=endpoint))

    def upsert(self, row: ContainerRow) -> None:
        self.containers[row.id] = row
        self._emit(StateChange(kind=ChangeKind.UPSERT, container_id=row.id, endpoint=row.endpoint))

    def remove(self, container_id: str) -> None:
        row = self.containers.pop(container_id, None)
        if row is not None:
            self._emit(StateChange(kind=ChangeKind.REMOVE, container_id=container_id, endpoint=row.endpoint))

    def replace_images(self, rows: list[ImageRow], endpoint: str = LOCAL_ENDPOINT) -> None:
        kept = {key: row for key, row in self.images.items() if row.endpoint != endpoint}
        self.images = kept | {state_key(row.endpoint, row.id): row for row in rows}
        self._emit(StateChange(kind=ChangeKind.IMAGE_RESET, endpoint=endpoint))

    def upsert_image(self, row: ImageRow) -> None:
        key = state_key(row.endpoint, row.id)
        self.images[key] = row
        self._emit(StateChange(kind=ChangeKind.IMAGE_UPSERT, image_id=key, endpoint=row.endpoint))
        # a tag names one image: when it moves (rebuild, newer pull) the daemon sends no untag for the old one
        for other_key, other in list(self.images.items()):
            if other.endpoint == row.endpoint and other.id != row.id and set(other.tags) & set(row.tags):
                other.tags = [tag for tag in other.tags if tag not in row.tags]
                self._emit(StateChange(kind=ChangeKind.IMAGE_UPSERT, image_id=other_key, endpoint=row.endpoint))

    def remove_image(self, image_id: str, endpoint: str = LOCAL_ENDPOINT) -> None:
        key = state_key(endpoint, image_id)
        if self.images.pop(key, None) is not None:
            self._emit(StateChange(kind=ChangeKind.IMAGE_REMOVE, image_id=key, endpoint=endpoint))

    def image(self, image_id: str, endpoint: str = LOCAL_ENDPOINT) -> ImageRow | None:
        """The image with this exact id on ``endpoint``."""
        return self.images.get(state_key(endpoint, image_id))

    def find_image(self, reference: str, endpoint: str | None = None) -> ImageRow | None:
        """An image by full id, 'sha256:'-less id or unique prefix (4+ characters), or one of its tags
        (':latest' when the tag is left out); on ``endpoint``, when given."""
        if reference in self.images and endpoint in (None, self.images[reference].endpoint):
            return self.images[reference]
        rows = [row for row in self.images.values() if endpoint is None or row.endpoint == endpoint]
        for row in rows:
            if row.id == reference:
                return row
        tagged = reference if ':' in reference.rsplit('/', 1)[-1] else f'{reference}:latest'
        for row in rows:
            if tagged in row.tags:
                return row
        bare = reference.removeprefix('sha256:')
        matches = [row for row in rows if row.id.removeprefix('sha256:').startswith(bare)]
        return matches[0] if len(matches) == 1 and len(bare) >= 4 else None

    def replace_volumes(self, rows: list[VolumeRow], endpoint: str = LOCAL_ENDPOINT) -> None:
        kept = {key: row for key, row in self.volumes.items() if row.endpoint != endpoint}
        self.volumes = kept | {state_key(row.endpoint, row.name): row for row in rows}
        self._emit(StateChange(kind=ChangeKind.VOLUME_RESET, endpoint=endpoint))

    def upsert_volume(self, row: VolumeRow) -> None:
        self.volumes[state_key(row.endpoint, row.name)] = row
        self._emit(StateChange(kind=ChangeKind.VOLUME_UPSERT, volume=row.name, endpoint=row.endpoint))

    def remove_volume(self, name: str, endpoint: str = LOCAL_ENDPOINT) -> None:
        if self.volumes.pop(state_key(endpoint, name), None) is not None:
            self._emit(StateChange(kind=ChangeKind.VOLUME_REMOVE, volume=name, endpoint=endpoint))

    def volume(self, name: str, endpoint: str = LOCAL_ENDPOINT) -> VolumeRow | None:
        return self.volumes.get(state_key(endpoint, name))

    def replace_networks(self, rows: list[NetworkRow], endpoint: str = LOCAL_ENDPOINT) -> None:
        kept = {key: row for key, row in self.networks.items() if row.endpoint != endpoint}
        self.networks = kept | {row.id: row for row in rows}
        self._emit(StateChange(kind=ChangeKind.NETWORK_RESET, endpoint=endpoint))

    def upsert_network(self, row: NetworkRow) -> None:
        self.networks[row.id] = row
        self._emit(StateChange(kind=ChangeKind.NETWORK_UPSERT, network_id=row.id, endpoint=row.endpoint))

    def remove_network(self, network_id: str) -> None:
        row = self.networks.pop(network_id, None)
        if row is not None:
            self._emit(StateChange(kind=ChangeKind.NETWORK_REMOVE, network_id=network_id, endpoint=row.endpoint))

    def containers_using(self, endpoint: str | None = None) -> dict[str, int]:
        """Image id → how many containers (any state) were created from it (on ``endpoint``, when given)."""
        counts: dict[str, int] = {}
        for row in self.containers.values():
            if endpoint is None or row.endpoint == endpoint:
                counts[row.image_id] = counts.get(row.image_id, 0) + 1
        return counts

    def forget(self, endpoint: str) -> None:
        """An endpoint was removed: its rows and status go."""
        self.replace_all([], endpoint)
        self.replace_images([], endpoint)
        self.replace_volumes([], endpoint)
        self.replace_networks([], endpoint)
        self.hosts.pop(endpoint, None)
        self._first_sync.pop(endpoint, None)
        self._emit(StateChange(kind=ChangeKind.ENGINE, endpoint=endpoint))

    async def first_sync(self, timeout: float = 5.0, endpoint: str = LOCAL_ENDPOINT) -> None:
        """Waits (at most ``timeout``) for the endpoint watcher's first full list, so a page opened just after start
        does not say "no such container" about one the engine has; returns at once when the engine is known
        unreachable, or for an endpoint nobody watches."""
        if endpoint not in self.hosts:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_sync_event(endpoint).wait(), timeout)

    def _first_sync_event(self, endpoint: str) -> asyncio.Event:
        event = self._first_sync.get(endpoint)
        if event is None:
            event = self._first_sync[endpoint] = asyncio.Event()
        return event

    def set_engine(self, ok: bool, message: str, endpoint: str = LOCAL_ENDPOINT, engine_id: str = '') -> None:
        if not ok:
            self._first_sync_event(endpoint).set()
        status = self.host(endpoint)
        status.engine_id = engine_id or status.engine_id
        if (ok, message) != (status.ok, status.message):
            if ok != status.ok:
                status.since = time.time()
            status.ok, status.message = ok, message
            self._emit(StateChange(kind=ChangeKind.ENGINE, endpoint=endpoint))

    def _emit(self, change: StateChange) -> None:
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:  # one broken page must not stop the others
                log.exception('state listener failed')


class EventWatcher:
    """Follows the daemon's event stream in a thread; full resync at start and after every reconnect."""

    def __init__(
        self,
        state: DockerState,
        endpoint: Endpoint,
        *,
        retry_seconds: float = 1.0,
        ping_seconds: float = 5.0,
        ping_timeout: float = 5.0,
    ) -> None:
        self.state = state
        self.endpoint = endpoint
        self.retry_seconds = retry_seconds
        # while the stream is read, the engine is pinged this often; two pings unanswered in time: unreachable
        self.ping_seconds = ping_seconds
        self.ping_timeout = ping_timeout
        self._silent = ''  # why the liveness check gave up on the stream
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._stream: Any = None
        self._thread: threading.Thread | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name=f'berth-event-watcher-{self.endpoint.id}', daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        stream = self._stream
        if stream is not None:
            try:
                stream.close()
            except Exception:  # closing a dead stream may fail; we are leaving anyway
                pass

    def _hand_over(self, function: Callable[..., None], *args: Any) -> None:
        if not self._stop.is_set():
            hand_over(self._loop, function, *args)

    def _run(self) -> None:
        while not self._stop.is_set():
            client: docker.DockerClient | None = None
            liveness: Liveness | None = None
            try:
                client = self.endpoint.connect(timeout=10)
                engine_id = str(client.api.info().get('ID') or '')
                # open the stream before listing, so nothing that happens during the resync is missed
                self._silent = ''
                self._stream = client.api.events(
                    decode=True, filters={'type': ['container', 'image', 'volume', 'network']}
                )
                keep_alive(self._stream)
                self._resync(client)
                self._hand_over(self.state.set_engine, True, 'connected', self.endpoint.id, engine_id)
                liveness = Liveness(
                    self.endpoint,
                    self._on_silent,
                    every=self.ping_seconds,
                    timeout=self.ping_timeout,
                    version=client.api.api_version,
                ).start()
                for event in self._stream:
                    if self._stop.is_set():
                        break
                    self._apply(client, event)
                if not self._stop.is_set():
                    raise EngineSilent(self._silent) if self._silent else ConnectionError('event stream ended')
            except Exception as error:  # daemon gone, socket gone, stream broken: say so and retry
                if self._stop.is_set():
                    break
                message = f'Docker engine unreachable ({describe_error(error)}) — retrying'
                log.warning(message)
                self._hand_over(self.state.set_engine, False, message, self.endpoint.id)
                self._stop.wait(self.retry_seconds)
            finally:
                if liveness is not None:
                    liveness.stop()
                self._stream = None
                if client is not None:
                    client.close()

    def _on_silent(self, reason: str) -> None:
        """From the liveness thread: the engine stopped answering; ending the stream makes the watcher say so."""
        self._silent = reason
        stream = self._stream
        if stream is not None:
            try:
                stream.close()
            except Exception:  # an SSH stream cannot be closed from here; its ssh client's own timeouts end it
                log.warning('could not close the event stream of %s', self.endpoint.id)

    def _resync(self, client: docker.DockerClient) -> None:
        rows = []
        for summary in client.api.containers(all=True):
            row = self._inspect(client, summary['Id'])
            if row is not None:
                rows.append(row)
        self._hand_over(self.state.replace_all, rows, self.endpoint.id)
        self._hand_over(
            self.state.replace_images,
            [ImageRow.from_summary(summary, self.endpoint.id) for summary in client.api.images()],
            self.endpoint.id,
        )
        networks = [NetworkRow.from_inspect(data, self.endpoint.id) for data in client.api.networks() or []]
        self._hand_over(self.state.replace_networks, networks, self.endpoint.id)
        volumes = (client.api.volumes() or {}).get('Volumes') or []
        self._hand_over(
            self.state.replace_volumes,
            [VolumeRow.from_inspect(data, self.endpoint.id) for data in volumes],
            self.endpoint.id,
        )

    def _apply(self, client: docker.DockerClient, event: dict[str, Any]) -> None:
        if event.get('Type') == 'image':
            self._apply_image(client, event)
            return
        if event.get('Type') == 'volume':
            self._apply_volume(client, event)
            return
        if event.get('Type') == 'network':
            self._apply_network(client, event)
            return
        action = str(event.get('Action') or event.get('status') or '')
        container_id = str(event.get('id') or (event.get('Actor') or {}).get('ID') or '')
        verb = action.split(':', 1)[0]
        if container_id and verb in EXEC_ACTIONS:
            exec_id = str(((event.get('Actor') or {}).get('Attributes') or {}).get('execID') or '')
            self._hand_over(self.state.note_exec, container_id, verb, exec_id)
        if not container_id or verb in IGNORED_ACTIONS:
            return
        if action == 'destroy':
            self._hand_over(self.state.remove, container_id)
            return
        row = self._inspect(client, container_id)
        if row is None:
            self._hand_over(self.state.remove, container_id)
        else:
            self._hand_over(self.state.upsert, row)

    def _apply_network(self, client: docker.DockerClient, event: dict[str, Any]) -> None:
        """create / destroy change the network; connect / disconnect change a container's networks (the daemon sends
        no container event for them), so that container is looked up again."""
        action = str(event.get('Action') or '')
        actor = event.get('Actor') or {}
        network_id = str(actor.get('ID') or event.get('id') or '')
        if action in ('connect', 'disconnect'):
            container_id = str((actor.get('Attributes') or {}).get('container') or '')
            row = self._inspect(client, container_id) if container_id else None
            if row is not None:
                self._hand_over(self.state.upsert, row)
            return
        if not network_id or action not in ('create', 'destroy'):
            return
        if action == 'destroy':
            self._hand_over(self.state.remove_network, network_id)
            return
        try:
            network = NetworkRow.from_inspect(client.api.inspect_network(network_id), self.endpoint.id)
        except docker.errors.NotFound:
            self._hand_over(self.state.remove_network, network_id)
            return
        self._hand_over(self.state.upsert_network, network)

    def _apply_volume(self, client: docker.DockerClient, event: dict[str, Any]) -> None:
        """create / destroy; mount and unmount change who uses it, which the container rows already say."""
        action = str(event.get('Action') or '')
        name = str((event.get('Actor') or {}).get('ID') or event.get('id') or '')
        if not name or action not in ('create', 'destroy'):
            return
        if action == 'destroy':
            self._hand_over(self.state.remove_volume, name, self.endpoint.id)
            return
        try:
            row = VolumeRow.from_inspect(client.api.inspect_volume(name), self.endpoint.id)
        except docker.errors.NotFound:
            self._hand_over(self.state.remove_volume, name, self.endpoint.id)
            return
        self._hand_over(self.state.upsert_volume, row)

    def _apply_image(self, client: docker.DockerClient, event: dict[str, Any]) -> None:
        """pull, tag, untag, delete, import, load...: look the image up again (a pull event names the reference)."""
        action = str(event.get('Action') or event.get('status') or '')
        reference = str(event.get('id') or (event.get('Actor') or {}).get('ID') or '')
        if not reference or action in IGNORED_IMAGE_ACTIONS:
            return
        if action == 'delete':
            self._hand_over(self.state.remove_image, reference, self.endpoint.id)
            return
        try:
            row = ImageRow.from_inspect(client.api.inspect_image(reference), self.endpoint.id)
        except docker.errors.NotFound:
            if reference.startswith('sha256:'):
                self._hand_over(self.state.remove_image, reference, self.endpoint.id)
            return
        self._hand_over(self.state.upsert_image, row)

    def _inspect(self, client: docker.DockerClient, container_id: str) -> ContainerRow | None:
        try:
            return ContainerRow.from_inspect(client.api.inspect_container(container_id), self.endpoint.id)
        except docker.errors.NotFound:
            return None
