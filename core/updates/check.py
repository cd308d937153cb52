"""One image reference checked against its registry: which references count, how the answer is compared with the
local image's repo digests, and the result both the worker and the panel keep."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.docker.reference import ImageReference, InvalidReference, parse_reference
from core.state.containers import ContainerRow
from core.updates.registry import RegistryError

KIND = 'image.check_updates'  # the job kind (and audit action) of a check
_SHORT_ID = re.compile(r'[a-f0-9]{12,64}')


class UpdateStatus(StrEnum):
    """What a check found for one reference."""

    AVAILABLE = 'available'  # the registry names another manifest under the tag than any the local image came as
    CURRENT = 'current'  # one of the local image's repo digests is the registry's
    LOCAL = 'local'  # the image never came from that repository (built, loaded or tagged here): unknown
    PINNED = 'pinned'  # the reference names a digest: what it names never changes
    UNKNOWN = 'unknown'  # the registry (or the engine) could not say; the message says why


@dataclass(kw_only=True, slots=True)
class UpdateResult:
    """One reference as a check found it; what travels from the worker to the panel, and what the table keeps."""

    reference: str  # as :func:`reference_key` spells it
    status: UpdateStatus
    remote_digest: str = ''  # what the registry names under the tag now
    image_id: str = ''  # the local image the reference named when checked
    local_digests: list[str] = field(default_factory=list)  # that image's repo digests ('name@sha256:…'), every one
    message: str = ''  # a sentence when the status is unknown
    checked_at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {
            'reference': self.reference,
            'status': self.status.value,
            'remote_digest': self.remote_digest,
            'image_id': self.image_id,
            'local_digests': list(self.local_digests),
            'message': self.message,
            'checked_at': self.checked_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UpdateResult:
        return cls(
            reference=str(data['reference']),
            status=UpdateStatus(str(data['status'])),
            remote_digest=str(data.get('remote_digest') or ''),
            image_id=str(data.get('image_id') or ''),
            local_digests=[str(digest) for digest in data.get('local_digests') or []],
            message=str(data.get('message') or ''),
            checked_at=float(data.get('checked_at') or 0.0),
        )

    def line(self) -> str:
        """One line of the job's output."""
        words = {
            UpdateStatus.AVAILABLE: f'update available ({self.remote_digest})',
            UpdateStatus.CURRENT: 'up to date',
            UpdateStatus.LOCAL: 'not checked: built or loaded here, never pulled from its registry',
            UpdateStatus.PINNED: 'not checked: pinned to a digest',
            UpdateStatus.UNKNOWN: f'not known: {self.message}',
        }
        return f'{self.reference}: {words[self.status]}'


@functools.lru_cache(maxsize=4096)  # asked for every container row a page renders
def reference_key(text: str, image_id: str = '') -> str | None:
    """How a reference is spelled in results (the engine's own way: 'busybox:latest', '127.0.0.1:5000/team/app:2'),
    or None for what is no reference to check: an image id (a container created from ``be89889dc435``)."""
    text = text.strip()
    if text.startswith('sha256:'):
        return None
    if _SHORT_ID.fullmatch(text) and image_id.removeprefix('sha256:').startswith(text):
        return None
    try:
        return parse_reference(text).familiar
    except InvalidReference:
        return None


def references_in_use(containers: Iterable[ContainerRow], endpoint: str) -> list[str]:
    """The references the containers on ``endpoint`` (any state) were created from, each once."""
    keys = {reference_key(row.image, row.image_id) for row in containers if row.endpoint == endpoint}
    return sorted(key for key in keys if key)


def digest_of(repo_digest: str) -> str:
    """'busybox@sha256:…' → 'sha256:…'."""
    return repo_digest.rpartition('@')[2]


def from_repository(repo_digest: str, reference: ImageReference) -> bool:
    """Whether a repo digest ('127.0.0.1:5000/team/app@sha256:…') was recorded for ``reference``'s repository."""
    try:
        return parse_reference(repo_digest).canonical_name == reference.canonical_name
    except InvalidReference:
        return False


def compare(reference: ImageReference, remote_digest: str, repo_digests: Iterable[str]) -> UpdateStatus:
    """CURRENT when any local repo digest is the registry's; LOCAL when the image never came from that repository
    (no repo digest of it); else AVAILABLE."""
    repo_digests = list(repo_digests)
    if reference.digest:
        return UpdateStatus.PINNED
    if not any(from_repository(entry, reference) for entry in repo_digests):
        return UpdateStatus.LOCAL
    current = remote_digest in {digest_of(entry) for entry in repo_digests}
    return UpdateStatus.CURRENT if current else UpdateStatus.AVAILABLE


Inspect = Callable[[str], dict[str, Any] | None]  # a reference → the engine's image inspect data, None when absent
AskRegistry = Callable[[ImageReference], str]  # a reference → the registry's digest; raises RegistryError


def check_reference(key: str, inspect: Inspect, ask: AskRegistry) -> UpdateResult:
    """Checks one reference: pinned and local-only images without asking the registry; a registry that cannot answer
    gives an unknown result with its sentence."""
    try:
        reference = parse_reference(key)
    except InvalidReference as error:
        return UpdateResult(reference=key, status=UpdateStatus.UNKNOWN, message=str(error))
    if reference.digest:
        return UpdateResult(reference=key, status=UpdateStatus.PINNED)
    image = inspect(key)
    if image is None:
        return UpdateResult(reference=key, status=UpdateStatus.UNKNOWN, message='no image has this tag here any more')
    image_id = str(image.get('Id') or '')
    repo_digests = sorted(str(entry) for entry in image.get('RepoDigests') or [] if not str(entry).startswith('<none>'))
    found = UpdateResult(reference=key, status=UpdateStatus.LOCAL, image_id=image_id, local_digests=repo_digests)
    if not any(from_repository(entry, reference) for entry in repo_digests):
        return found  # built, loaded or only tagged here: the registry's tag is not what this image came from
    try:
        found.remote_digest = ask(reference)
    except RegistryError as error:
        found.status, found.message = UpdateStatus.UNKNOWN, str(error)
        return found
    found.status = compare(reference, found.remote_digest, repo_digests)
    return found
