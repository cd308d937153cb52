"""A pull from a registry: the daemon's stream of progress messages, folded into per-layer progress."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import asdict, dataclass
from typing import Any

import docker
from docker import auth

from core.docker.client import describe_error
from core.docker.endpoints import Endpoint
from core.docker.raw import decoded_messages, post_stream
from core.docker.reference import ImageReference, parse_reference
from core.jobs.cancel import CancelFlags
from core.jobs.store import JobStatus
from core.operations.report import JobReporter
from core.state.images import format_size
from core.storage.credentials import TRANSIT_SECONDS, SecretBox, SecretError

PUBLISH_SECONDS = 0.1  # at most ~10 progress messages a second, whatever the daemon sends
CANCEL_CHECK_SECONDS = 0.25
# statuses after which a layer has nothing left to do
DONE = ('Pull complete', 'Already exists')
DOWNLOADED = ('Verifying Checksum', 'Download complete')


class PullFailed(Exception):
    """The daemon or the registry reported an error in the middle of the stream; the message is theirs."""


class PullCancelled(Exception):
    """Someone asked to cancel; the message says who."""


Publish = Callable[[str, float, dict[str, Any], str], None]  # summary, fraction, detail, new output lines


@dataclass(kw_only=True, slots=True)
class LayerProgress:
    """One layer as the daemon reports it: Waiting, Downloading, Extracting, Pull complete, Already exists..."""

    id: str
    status: str
    current: int = 0
    total: int = 0

    @property
    def fraction(self) -> float:
        """Half for the download, half for the extraction (the daemon reports both with byte counts)."""
        if self.status in DONE:
            return 1.0
        part = min(1.0, self.current / self.total) if self.total else 0.0
        if self.status == 'Downloading':
            return 0.5 * part
        if self.status in DOWNLOADED:
            return 0.5
        if self.status == 'Extracting':
            return 0.5 + 0.5 * part
        return 0.0


class PullTracker:
    """Folds the daemon's pull messages into layers, an overall fraction, a summary and output lines.

    Not thread-safe by itself: the caller holds a lock when another thread takes snapshots.
    """

    def __init__(self, reference: str) -> None:
        self.reference = reference
        self.layers: dict[str, LayerProgress] = {}
        self.result = ''
        self._fraction = 0.0
        self._lines: list[str] = []
        self.changed = False

    def feed(self, message: dict[str, Any]) -> None:
        """One decoded message; raises :class:`PullFailed` with the daemon's text for an error message."""
        if message.get('error') or message.get('errorDetail'):
            detail = message.get('errorDetail') or {}
            raise PullFailed(str(detail.get('message') or message.get('error')))
        status = str(message.get('status') or '')
        layer_id = str(message.get('id') or '')
        self.changed = True
        if not layer_id or status.startswith(('Pulling from', 'Digest:', 'Status:')):
            if status.startswith('Status:'):
                self.result = status.removeprefix('Status:').strip()
            self._lines.append(f'{layer_id}: {status}' if layer_id and not status.startswith('Digest') else status)
            return
        layer = self.layers.get(layer_id)
        if layer is None:
            layer = self.layers[layer_id] = LayerProgress(id=layer_id, status=status)
            self._lines.append(f'{layer_id}: {status}')
        elif layer.status != status:
            if status not in ('Downloading', 'Extracting') or layer.status not in ('Downloading', 'Extracting'):
                self._lines.append(f'{layer_id}: {status}')
            layer.status = status
        detail = message.get('progressDetail') or {}
        if 'current' in detail or 'total' in detail:
            layer.current = int(detail.get('current') or 0)
            layer.total = int(detail.get('total') or layer.total)

    @property
    def fraction(self) -> float:
        """Overall progress, weighted by layer size where known; never goes backwards."""
        work = [layer for layer in self.layers.values() if layer.status != 'Already exists']
        if not work:
            return 1.0 if self.result else self._fraction
        known = [layer.total for layer in work if layer.total]
        guess = sum(known) / len(known) if known else 1.0
        weights = [layer.total or guess for layer in work]
        done = sum(weight * layer.fraction for weight, layer in zip(weights, work, strict=True))
        self._fraction = max(self._fraction, done / sum(weights))
        return self._fraction

    def detail(self) -> dict[str, Any]:
        return {'reference': self.reference, 'layers': [asdict(layer) for layer in self.layers.values()]}

    def summary(self) -> str:
        """'Downloading 2 of 3 layers, 5.1 MB of 12 MB' style."""
        work = [layer for layer in self.layers.values() if layer.status != 'Already exists']
        finished = sum(1 for layer in work if layer.status == 'Pull complete')
        downloaded = sum(layer.total if layer.fraction >= 0.5 else layer.current for layer in work)
        total = sum(layer.total for layer in work)
        sizes = f', {format_size(downloaded)} of {format_size(total)}' if total else ''
        return f'{finished} of {len(work)} layers complete{sizes}'

    def take_output(self) -> str:
        """The output lines since the last call (status changes, not every byte count)."""
        lines, self._lines = self._lines, []
        return '\n'.join(lines)


class PullStream:
    """The daemon's pull as decoded messages; :meth:`close` from any thread ends it, and with it the daemon's pull.

    docker-py's ``pull(stream=True)`` hides the HTTP response, and closing its generator does not wake a reader
    blocked on a quiet stream: this opens the same request (:mod:`core.docker.raw`) and keeps the response.
    """

    def __init__(
        self, api: docker.APIClient, reference: ImageReference, auth_config: dict[str, str] | None = None
    ) -> None:
        headers = {}
        if auth_config:
            headers['X-Registry-Auth'] = auth.encode_header(auth_config)
        else:  # the engine host's own `docker login`, as `docker pull` there would use
            header = auth.get_config_header(api, reference.registry_key)
            if header:
                headers['X-Registry-Auth'] = header
        self._api = api
        self._closed = threading.Event()
        self._response = post_stream(
            api, '/images/create', params={'fromImage': reference.name, 'tag': reference.pull_tag}, headers=headers
        )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        yield from decoded_messages(self._api, self._response)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def close(self) -> None:
        """Shuts the connection down: a blocked read returns at once and the daemon sees the client leave."""
        self._closed.set()
        connection = getattr(self._response.raw, 'connection', None)
        sock = getattr(connection, 'sock', None)
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # already gone
            pass
        self._response.close()


def run_pull(
    api: docker.APIClient,
    reference: ImageReference,
    auth_config: dict[str, str] | None,
    publish: Publish,
    cancelled_by: Callable[[], str],
) -> PullTracker:
    """Pulls ``reference``, publishing coalesced progress from a side thread that also watches for cancellation.

    Returns the tracker (its ``result`` is the daemon's closing status). Raises :class:`PullFailed`,
    :class:`PullCancelled`, or the SDK's errors (unknown image, unreachable registry, refused credentials).
    """
    tracker = PullTracker(str(reference))
    lock = threading.Lock()
    stream = PullStream(api, reference, auth_config)
    stop = threading.Event()
    canceller: list[str] = []

    def flush() -> None:
        with lock:
            if not tracker.changed:
                return
            tracker.changed = False
            snapshot = (tracker.summary(), tracker.fraction, tracker.detail(), tracker.take_output())
        publish(*snapshot)

    def watch() -> None:
        checked = time.monotonic()
        while not stop.wait(PUBLISH_SECONDS):
            flush()
            if time.monotonic() - checked >= CANCEL_CHECK_SECONDS:
                checked = time.monotonic()
                who = cancelled_by()
                if who:
                    canceller.append(who)
                    stream.close()
                    return

    watcher = threading.Thread(target=watch, name='berth-pull-progress', daemon=True)
    watcher.start()
    try:
        for message in stream:
            with lock:
                tracker.feed(message)
    except PullFailed:
        raise
    except Exception:
        if not canceller:
            raise
    finally:
        stop.set()
        watcher.join()
        stream.close()
    if canceller:
        raise PullCancelled(f'cancelled by {canceller[0]}')
    return tracker


def pull_image(
    endpoint: Endpoint,
    reporter: JobReporter,
    job_id: str,
    reference: str,
    sealed_credentials: str,
    *,
    cancel: CancelFlags,
    secrets: SecretBox | None,
) -> None:
    """The job: pulls one image on ``endpoint``, publishing per-layer progress (coalesced to ~10 messages a second)
    until it ends. ``sealed_credentials`` is the panel's Fernet token (or ''), opened here and never logged."""
    try:
        who = cancel.requested_by(job_id)
        if who:
            raise PullCancelled(f'cancelled by {who} before it started')
        auth_config = open_credentials(secrets, sealed_credentials)
        with closing(endpoint.connect()) as client:
            tracker = run_pull(
                client.api,
                parse_reference(reference),
                auth_config,
                lambda summary, fraction, detail, output: reporter.publish(
                    JobStatus.PROGRESS, summary, fraction, detail, output
                ),
                lambda: cancel.requested_by(job_id),
            )
    except (PullCancelled, PullFailed, SecretError) as error:
        reporter.publish(JobStatus.FAILED, str(error))
        return
    except Exception as error:  # unknown image, unreachable registry, refused credentials: the daemon's words
        reporter.publish(JobStatus.FAILED, describe_error(error))
        return
    finally:
        cancel.clear(job_id)
    layers = [layer for layer in tracker.layers.values() if layer.status != 'Already exists']
    size = sum(layer.total for layer in layers)
    result = (tracker.result or 'pulled').split(' for ', 1)[0]  # 'Downloaded newer image for <reference>'
    if layers:
        result += f' ({len(layers)} new layer{"s" if len(layers) != 1 else ""}, {format_size(size)})'
    reporter.publish(JobStatus.SUCCEEDED, result[:1].lower() + result[1:], 1.0, tracker.detail(), tracker.take_output())


def open_credentials(secrets: SecretBox | None, sealed: str) -> dict[str, str] | None:
    """The registry credentials the panel sealed for this job (None: the engine host's own login)."""
    if not sealed:
        return None
    if secrets is None:
        raise SecretError(
            'this worker has no key to open the registry credentials: give the panel and every '
            'worker the same BERTH_SECRET_KEY (or the same BERTH_DATA_DIR)'
        )
    return secrets.open(sealed, max_age=TRANSIT_SECONDS)
