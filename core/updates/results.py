"""The panel's record of update checks, and the one call the rest of the panel asks: ``available``.

A check job's result for each reference (what the registry named under the tag, and the local image and repo digests
it was compared with) is folded in from the job's last update on the event loop, kept in memory and in the
``image_updates`` table (written by the database's writer thread), and announced to :meth:`UpdateResults.subscribe`
listeners. Whether an update is available is decided when asked, against the live state: the registry's digest among
the repo digests of the image the reference names now — or, for a container, of the image it runs.

The record is a cache per reference and local image: when the image a reference names changes (a pull, a tag moved,
an image removed: the watcher's image events), a result whose registry digest the new image has is kept (the pull
fetched what the registry names: up to date), any other is cleared, so the schedule checks that reference again.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from core.docker.reference import parse_reference
from core.jobs.store import ACTIVE, FINISHED, Job, JobStatus, JobUpdate
from core.state.images import ImageRow
from core.state.model import IMAGE_CHANGES, ChangeKind, DockerState, StateChange
from core.storage.database import Database
from core.updates.check import KIND, UpdateResult, UpdateStatus, compare, digest_of, reference_key, references_in_use

log = logging.getLogger(__name__)
TABLE = 'image_updates'
Listener = Callable[[str, frozenset[str]], None]  # (endpoint, the references whose answer may have changed)


@dataclass(kw_only=True, slots=True, frozen=True)
class UpdateInfo:
    """What a badge says about one reference (and local image): whether an update is available (None: not known),
    what the registry names under the tag, and when that was asked."""

    reference: str
    available: bool | None
    remote_digest: str
    checked_at: float
    status: UpdateStatus  # what the check found (LOCAL, PINNED, UNKNOWN: why ``available`` is None)
    message: str = ''  # why it is not known, when the registry could not say


class UpdateResults:
    """Results per (endpoint, reference); changed on the event loop only (job updates, state changes)."""

    def __init__(self, database: Database, state: DockerState) -> None:
        self.database = database
        self.state = state
        self._results: dict[tuple[str, str], UpdateResult] = {}
        self._listeners: list[Listener] = []
        self._checking: dict[str, str] = {}  # endpoint → the job id of the check queued or running there
        for row in database.query(f'SELECT * FROM {TABLE}'):
            try:
                result = UpdateResult.from_dict({**row, 'local_digests': json.loads(row['local_digests'] or '[]')})
            except (ValueError, KeyError) as error:
                log.warning('ignored a stored update check of %s: %s', row.get('reference'), error)
                continue
            self._results[(str(row['endpoint']), result.reference)] = result
        state.subscribe(self.on_state)

    # --- what the rest of the panel asks -------------------------------------------------------------------------

    def available(self, endpoint: str, reference: str, image_id: str = '') -> bool | None:
        """Whether the registry names another image under ``reference``'s tag than the local one: the image
        ``reference`` names here now, or (a container's) the image ``image_id``. None when not known: never
        checked, pinned to a digest, built or loaded here, or the registry could not say."""
        info = self.status(endpoint, reference, image_id)
        return info.available if info is not None else None

    def status(self, endpoint: str, reference: str, image_id: str = '') -> UpdateInfo | None:
        """The answer for ``reference`` (see :meth:`available`) with what a badge shows; None when never checked."""
        key = reference_key(reference, image_id)
        result = self._results.get((endpoint, key)) if key else None
        if key is None or result is None:
            return None
        available: bool | None = None
        image = self._image(endpoint, key, image_id)
        if result.remote_digest and image is not None:
            verdict = compare(parse_reference(key), result.remote_digest, image.digests)
            available = {UpdateStatus.AVAILABLE: True, UpdateStatus.CURRENT: False}.get(verdict)
        return UpdateInfo(
            reference=key,
            available=available,
            remote_digest=result.remote_digest,
            checked_at=result.checked_at,
            status=result.status,
            message=result.message,
        )

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Calls ``listener(endpoint, references)`` on the loop whenever answers may have changed (a check ended, an
        image changed); returns the function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def checking(self, endpoint: str) -> bool:
        """Whether a check of ``endpoint`` is queued or running."""
        return endpoint in self._checking

    def last_checked(self, endpoint: str) -> float:
        """When the latest answer on ``endpoint`` came (0: never)."""
        return max((r.checked_at for (where, _), r in self._results.items() if where == endpoint), default=0.0)

    def in_use(self, endpoint: str) -> list[str]:
        """The references the containers on ``endpoint`` were created from (digest-pinned ones included)."""
        return references_in_use(self.state.containers.values(), endpoint)

    def due(self, endpoint: str, max_age: float, now: float | None = None) -> list[str]:
        """The references in use on ``endpoint`` with no answer, or an answer older than ``max_age`` seconds."""
        now = time.time() if now is None else now
        return [
            key
            for key in self.in_use(endpoint)
            if (result := self._results.get((endpoint, key))) is None or now - result.checked_at >= max_age
        ]

    # --- what feeds it ---------------------------------------------------------------------------------------------

    def on_job(self, job: Job, update: JobUpdate) -> None:
        """A JobStore listener: notes the checks under way, and folds a finished check's results in."""
        if job.kind != KIND:
            return
        if update.status in ACTIVE:
            self._checking[job.endpoint] = job.job_id
        elif update.status in FINISHED:
            if self._checking.get(job.endpoint) == job.job_id:
                del self._checking[job.endpoint]
            results = (update.detail or {}).get('results') or []
            if update.status != JobStatus.SUCCEEDED:
                results = []
            self.record(job.endpoint, [UpdateResult.from_dict(result) for result in results])

    def record(self, endpoint: str, results: list[UpdateResult]) -> None:
        """Keeps ``results`` (memory, then the table through the writer thread) and tells the listeners."""
        for result in results:
            self._results[(endpoint, result.reference)] = result
            self._persist(endpoint, result)
        self._notify(endpoint, frozenset(result.reference for result in results))

    def on_state(self, change: StateChange) -> None:
        """A DockerState listener: clears what an image change made stale (see the module's description)."""
        if change.kind not in IMAGE_CHANGES:
            return
        endpoint = change.endpoint
        row = self.state.images.get(change.image_id)  # keyed by state_key(endpoint, id)
        image_id = row.id if row is not None else change.image_id.rpartition('/')[2]
        tags = set(row.tags) if row is not None else set()
        changed = set()
        for (where, key), result in list(self._results.items()):
            if where != endpoint or result.status == UpdateStatus.PINNED:
                continue
            touched = change.kind == ChangeKind.IMAGE_RESET or result.image_id == image_id or key in tags
            if touched and self._reconcile(endpoint, key, result):
                changed.add(key)
        if changed:
            self._notify(endpoint, frozenset(changed))

    def _reconcile(self, endpoint: str, key: str, result: UpdateResult) -> bool:
        image = self._image(endpoint, key)
        if image is not None and (image.id, sorted(image.digests)) == (result.image_id, sorted(result.local_digests)):
            return False
        if image is not None and result.remote_digest in {digest_of(entry) for entry in image.digests}:
            result.image_id, result.local_digests, result.status = image.id, list(image.digests), UpdateStatus.CURRENT
            self._persist(endpoint, result)
            return True
        del self._results[(endpoint, key)]
        self.database.writer.execute(
            f'DELETE FROM {TABLE} WHERE endpoint = ? AND reference = ?',
            (endpoint, key),
            what=f'the update check of {key}',
        )
        return True

    def _image(self, endpoint: str, key: str, image_id: str = '') -> ImageRow | None:
        return self.state.image(image_id, endpoint) if image_id else self.state.find_image(key, endpoint)

    def _persist(self, endpoint: str, result: UpdateResult) -> None:
        row = {**result.to_dict(), 'endpoint': endpoint, 'local_digests': json.dumps(result.local_digests)}
        self.database.writer.upsert(TABLE, 'endpoint, reference', row, what=f'the update check of {result.reference}')

    def _notify(self, endpoint: str, references: frozenset[str]) -> None:
        for listener in list(self._listeners):
            try:
                listener(endpoint, references)
            except Exception:  # one broken page must not stop the others
                log.exception('update listener failed')
