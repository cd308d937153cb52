"""Flow 2 for images and new containers: pull, remove, tag, prune, create-and-run, cancel.

A mixin of `Commands` (core/commands/dispatch.py; split by resource, as docker-py splits its API client): every
checks what the user asked for, then goes through the one ``dispatch`` (role check, audit entry, queued job, send).
"""

from __future__ import annotations

import docker
from nicegui import run

from core.commands import policy
from core.commands.base import CommandBase
from core.commands.spec import ContainerSpec, SpecError
from core.docker.client import describe_error
from core.docker.endpoints import Endpoints
from core.docker.reference import InvalidReference, parse_reference
from core.errors import CommandError, clip
from core.jobs.cancel import CancelFlags
from core.jobs.store import ACTIVE, Job, JobStatus, JobStore
from core.permissions import ANYWHERE, LOCAL_ENDPOINT, Forbidden, Identity, Permission, Scope, role_allows
from core.protection import Protection
from core.state.images import ImageRow, prune_candidates
from core.state.model import DockerState
from core.storage.audit import AuditLog
from core.storage.credentials import RegistryCredentials

CANCELLABLE = ('image.pull',)
PRUNE_MODES = {'dangling': 'dangling images', 'unused': 'unused images'}


class ImageCommands(CommandBase):
    """The image and create commands; ``Commands`` provides the state, stores and ``dispatch``."""

    state: DockerState
    jobs: JobStore
    audit: AuditLog
    credentials: RegistryCredentials | None
    cancel: CancelFlags | None
    protection: Protection
    endpoints: Endpoints | None

    async def pull_image(
        self,
        identity: Identity | None,
        reference: str,
        *,
        username: str = '',
        password: str = '',
        save: bool = False,
        endpoint: str = LOCAL_ENDPOINT,
    ) -> Job:
        """Validates the reference, seals the credentials (entered, or saved for that registry) for the worker,
        and queues the pull on ``endpoint``. Credentials never reach the audit log or the job; they are saved
        (encrypted) only when ``save`` is set and the pull was allowed."""
        where = Scope(endpoint=endpoint)
        self._require(identity, Permission.IMAGE_PULL, 'pull images', 'image.pull', reference.strip(), scope=where)
        try:
            parsed = parse_reference(reference)
        except InvalidReference as error:
            raise CommandError(str(error)) from None
        sealed, source = '', 'none'
        if self.credentials is not None:
            sealed, source = self.credentials.seal_for_job(parsed.registry_key, username, password)
        job = await self.dispatch(
            identity,
            permission=Permission.IMAGE_PULL,
            what='pull images',
            kind='image.pull',
            target=str(parsed),
            target_name=str(parsed),
            params={},
            audit_params={'reference': str(parsed), 'credentials': source, 'save_credentials': bool(save and username)},
            arguments=(str(parsed), sealed),
            scope=where,
        )
        if save and username and job.status != JobStatus.FAILED and self.credentials and identity:
            self.credentials.save(parsed.registry_key, username, password, identity.username)
        return job

    async def remove_image(self, identity: Identity | None, image_id: str, *, force: bool = False) -> Job:
        """Removes an image (all its tags with ``force``; the daemon refuses an image in use otherwise)."""
        row = self._guarded_image(identity, Permission.IMAGE_REMOVE, 'remove images', 'image.remove', image_id)
        return await self.dispatch(
            identity,
            permission=Permission.IMAGE_REMOVE,
            what='remove images',
            kind='image.remove',
            target=row.id,
            target_name=row.title,
            params={'force': force},
            arguments=('remove', row.id),
            scope=row.scope,
        )

    async def tag_image(self, identity: Identity | None, image_id: str, new_reference: str) -> Job:
        """Adds the tag ``new_reference`` (repository[:tag], 'latest' when left out) to an image."""
        row = self._guarded_image(identity, Permission.IMAGE_TAG, 'tag images', 'image.tag', image_id)
        try:
            parsed = parse_reference(new_reference, allow_digest=False)
        except InvalidReference as error:
            raise CommandError(str(error)) from None
        return await self.dispatch(
            identity,
            permission=Permission.IMAGE_TAG,
            what='tag images',
            kind='image.tag',
            target=row.id,
            target_name=row.title,
            params={'repository': parsed.name, 'tag': parsed.tag or 'latest'},
            arguments=('tag', row.id),
            scope=row.scope,
        )

    async def prune_images(
        self, identity: Identity | None, mode: str, image_ids: list[str], *, endpoint: str = LOCAL_ENDPOINT
    ) -> Job:
        """Removes exactly the images of ``endpoint`` the user confirmed (their ids), if they still qualify (dangling /
        unused) now."""
        where = Scope(endpoint=endpoint)
        what = PRUNE_MODES.get(mode, mode)
        self._require(identity, Permission.IMAGE_PRUNE, 'prune images', 'image.prune', what, scope=where)
        if mode not in PRUNE_MODES:
            raise CommandError(f'unknown prune mode {mode!r}')
        if not image_ids:
            raise CommandError(f'there are no {PRUNE_MODES[mode]} to remove')
        candidates = {
            row.id
            for row in prune_candidates(
                [image for image in self.state.images.values() if image.endpoint == endpoint],
                set(self.state.containers_using(endpoint)),
                unused=mode == 'unused',
            )
        }
        gone = [image_id for image_id in image_ids if image_id not in candidates]
        if gone:
            names = ', '.join(
                row.title if (row := self.state.image(image_id, endpoint)) is not None else image_id[:19]
                for image_id in gone
            )
            raise CommandError(f'the list changed meanwhile ({names} no longer qualifies): look again and confirm')
        return await self.dispatch(
            identity,
            permission=Permission.IMAGE_PRUNE,
            what='prune images',
            kind='image.prune',
            target=mode,
            target_name=PRUNE_MODES[mode],
            params={'image_ids': list(image_ids)},
            arguments=('prune', ''),
            scope=where,
        )

    async def create_container(
        self, identity: Identity | None, spec: ContainerSpec, *, endpoint: str = LOCAL_ENDPOINT
    ) -> Job:
        """Checks the role on ``endpoint``, the spec and the body-level policy (:func:`core.commands.policy.refusals`),
        then queues the create (and start) there. The actor checks the policy again with the role this dispatch
        verified."""
        target_name = spec.name or f'a container from {spec.image}'
        where = Scope(endpoint=endpoint)
        identity = self._require(
            identity,
            Permission.CONTAINER_CREATE,
            'create containers',
            'container.create',
            target_name,
            spec.audit_summary(),
            scope=where,
        )
        try:
            spec.validate()
        except SpecError as error:
            raise CommandError(str(error)) from None
        role = identity.role_on(endpoint)
        reasons = policy.refusals(spec, role, await self._protected_volumes(spec, role, endpoint))
        if reasons:
            article = 'an' if role[:1] in 'aeiou' else 'a'
            host = '' if endpoint == LOCAL_ENDPOINT else f' on host "{clip(endpoint)}"'
            refusal = Forbidden(f'{identity.username} is {article} {role}{host}: {"; ".join(reasons)}')
            self._refused(identity, 'container.create', target_name, spec.audit_summary(), refusal, endpoint=endpoint)
            raise refusal
        return await self.dispatch(
            identity,
            permission=Permission.CONTAINER_CREATE,
            what='create containers',
            kind='container.create',
            target=spec.name,
            target_name=target_name,
            params={},
            audit_params=spec.audit_summary(),
            arguments=(spec.to_dict(),),
            scope=where,
        )

    def cancel_job(self, identity: Identity | None, job_id: str) -> None:
        """Asks the worker to stop a running pull; the job then fails with 'cancelled by …'."""
        job = self.jobs.jobs.get(job_id)
        identity = self._require(
            identity,
            Permission.JOB_CANCEL,
            'cancel jobs',
            'job.cancel',
            job.target_name if job else job_id,
            {'job': job_id},
        )
        if job is None or job.kind not in CANCELLABLE:
            raise CommandError('only pulls can be cancelled')
        if job.status not in ACTIVE:
            raise CommandError(f'the job has already {job.status}')
        if self.cancel is None:
            raise CommandError('cancelling is not available')
        self.cancel.request(job_id, identity.username)
        self.audit.record(
            username=identity.username,
            role=identity.role,
            action='job.cancel',
            target=job.target_name,
            params={'job': job_id, 'kind': job.kind},
            result='requested',
            address=identity.address,
        )

    def forget_credentials(self, identity: Identity | None, registry: str) -> bool:
        """Deletes the credentials saved for ``registry``; True when there were some."""
        identity = self._require(
            identity, Permission.REGISTRY_CREDENTIALS, 'forget registry credentials', 'registry.forget', registry
        )
        forgotten = self.credentials.forget(registry) if self.credentials is not None else False
        self.audit.record(
            username=identity.username,
            role=identity.role,
            action='registry.forget',
            target=registry,
            params={},
            result='forgotten' if forgotten else 'nothing saved',
            address=identity.address,
        )
        return forgotten

    async def _protected_volumes(self, spec: ContainerSpec, role: str, endpoint: str = LOCAL_ENDPOINT) -> set[str]:
        """Berth's protected volumes on ``endpoint``, looked up (off the loop) only when a non-admin asks for named
        volumes."""
        if (
            role_allows(role, Permission.BERTH_INTERNALS)
            or self.endpoints is None
            or not any(mount.kind == 'volume' and mount.source for mount in spec.mounts)
        ):
            return set()
        endpoints = self.endpoints
        try:
            found = await run.io_bound(lambda: self.protection.protected_volumes(endpoints.client(endpoint).api))
            return set(found or ())
        except docker.errors.DockerException as error:
            raise CommandError(f"could not check the volumes against Berth's own: {describe_error(error)}") from None

    def _guarded_image(
        self, identity: Identity | None, permission: Permission, what: str, kind: str, image_id: str
    ) -> ImageRow:
        """The image (``image_id``: the state's key, an id on local and endpoint/id elsewhere, else a reference on
        local) once ``permission`` on its host is checked (refusals audited); gone: a sentence."""
        row = self.state.images.get(image_id) or self.state.find_image(image_id, LOCAL_ENDPOINT)
        self._require(
            identity, permission, what, kind, row.title if row else image_id, scope=row.scope if row else ANYWHERE
        )
        if row is None:
            raise CommandError(f'image {image_id.removeprefix("sha256:")[:12]} no longer exists')
        return row
