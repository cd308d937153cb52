"""Flow 2 for volumes: create, remove, prune.

A mixin of `Commands` (core/commands/dispatch.py), like ``ImageCommands``: each command checks the permission on the
volume's scope (endpoint + owner label) and what the user asked for, then goes through the one ``dispatch``. Who uses
a volume comes from the live container rows (``containers_by``), never from one inspect per volume.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.commands.base import CommandBase
from core.commands.volume_input import volume_request
from core.errors import CommandError
from core.jobs.store import Job
from core.permissions import LOCAL_ENDPOINT, Identity, Permission, Scope
from core.protection import Protection
from core.state.containers import ContainerRow, containers_by
from core.state.model import DockerState
from core.state.volumes import VolumeRow, prune_candidates
from core.storage.audit import AuditLog

# mode → what it removes (the job's target name); 'all' only when the user chose it
VOLUME_PRUNE_MODES = {'anonymous': 'unused anonymous volumes', 'all': 'all unused volumes'}


class VolumeCommands(CommandBase):
    """The volume commands; ``Commands`` provides the state, the audit log, the protection and ``dispatch``."""

    state: DockerState
    audit: AuditLog
    protection: Protection

    async def create_volume(
        self,
        identity: Identity | None,
        name: str,
        driver: str = 'local',
        labels: str | Iterable[str] = (),
        driver_options: str | Iterable[str] = (),
        *,
        endpoint: str = LOCAL_ENDPOINT,
    ) -> Job:
        """Checks the name (the engine's rule), driver, ``key=value`` labels and driver options (admins only: one can
        bind any host path), then queues the create. The actor checks the options again against the signed role."""
        where = Scope(endpoint=endpoint)
        identity = self._require(
            identity, Permission.VOLUME_CREATE, 'create volumes', 'volume.create', name, scope=where
        )
        request, problems = volume_request(name, driver, labels, driver_options)
        if problems:
            raise CommandError('; '.join(problems))
        summary = request.audit_summary()
        if request.driver_options:
            what = 'set volume driver options'
            self._require(
                identity, Permission.VOLUME_DRIVER_OPTIONS, what, 'volume.create', request.name, summary, scope=where
            )
        if request.reserved_labels:
            what = f"set Berth's own labels ({', '.join(request.reserved_labels)})"
            self._require(
                identity, Permission.BERTH_INTERNALS, what, 'volume.create', request.name, summary, scope=where
            )
        if self._volume_row(request.name, endpoint) is not None:
            raise CommandError(f'a volume named {request.name} already exists')
        return await self.dispatch(
            identity,
            permission=Permission.VOLUME_CREATE,
            what='create volumes',
            kind='volume.create',
            target=request.name,
            target_name=request.name,
            params=request.to_params(),
            audit_params=summary,
            arguments=('create', request.name),
            scope=Scope.of(request.labels, endpoint),
        )

    async def remove_volume(
        self, identity: Identity | None, name: str, *, force: bool = False, endpoint: str = LOCAL_ENDPOINT
    ) -> Job:
        """Removes a volume no container uses. A volume in use is refused with a sentence naming the containers,
        unless ``force``: then those containers are removed first (each needs the lifecycle permission). Berth's own
        volumes need the admin role."""
        volume = self._volume_row(name, endpoint)
        scope = volume.access_scope if volume else Scope(endpoint=endpoint)
        identity = self._require(
            identity, Permission.VOLUME_REMOVE, 'remove volumes', 'volume.remove', name, scope=scope
        )
        if volume is None:
            raise CommandError(f'volume {name} no longer exists')
        users = self.volume_users(volume)
        permission, what = self.volume_remove_permission(volume, users)
        self._require(identity, permission, what, 'volume.remove', name, scope=volume.access_scope)
        if users and not force:
            names = ', '.join(row.name for row in users)
            them = 'them' if len(users) > 1 else 'it'
            raise CommandError(
                f'volume {name} is in use by {names}: remove {them} first, or force the removal (which removes {them})'
            )
        for row in users:  # forced: the containers go too, so each needs what removing it needs
            needed = Permission.CONTAINER_LIFECYCLE
            if self.protection.container_is_protected(row.id, row.labels):
                needed = Permission.BERTH_INTERNALS
            self._require(identity, needed, f'remove the container {row.name}', 'volume.remove', name, scope=row.scope)
        return await self.dispatch(
            identity,
            permission=permission,
            what=what,
            kind='volume.remove',
            target=name,
            target_name=name,
            params={'force': bool(force), 'containers': [row.id for row in users]},
            audit_params={'force': bool(force), 'containers': [row.name for row in users]},
            arguments=('remove', name),
            scope=volume.access_scope,
        )

    async def prune_volumes(
        self,
        identity: Identity | None,
        mode: str = 'anonymous',
        names: Iterable[str] = (),
        *,
        endpoint: str = LOCAL_ENDPOINT,
    ) -> Job:
        """Removes exactly the volumes the user confirmed, if each still qualifies now (unused; anonymous unless
        ``mode`` is 'all'); never the engine's own prune, which could take more."""
        names = list(dict.fromkeys(names))
        where = Scope(endpoint=endpoint)
        what = VOLUME_PRUNE_MODES.get(mode, mode)
        identity = self._require(identity, Permission.VOLUME_PRUNE, 'prune volumes', 'volume.prune', what, scope=where)
        if mode not in VOLUME_PRUNE_MODES:
            raise CommandError(f'unknown prune mode {mode!r}')
        if not names:
            raise CommandError(f'there are no {what} to remove')
        candidates = {volume.name for volume in self.volume_prune_candidates(identity, mode, endpoint)}
        gone = [name for name in names if name not in candidates]
        if gone:
            raise CommandError(
                f'the list changed meanwhile ({", ".join(gone)} no longer qualif{"y" if len(gone) > 1 else "ies"}): '
                'look again and confirm'
            )
        return await self.dispatch(
            identity,
            permission=Permission.VOLUME_PRUNE,
            what='prune volumes',
            kind='volume.prune',
            target=mode,
            target_name=what,
            params={'names': names},
            arguments=('prune', ''),
            scope=where,
        )

    def volume_prune_candidates(
        self, identity: Identity | None, mode: str, endpoint: str = LOCAL_ENDPOINT
    ) -> list[VolumeRow]:
        """What a prune in ``mode`` would remove for ``identity`` now: the preview lists these, the command re-checks
        against them. Unused volumes only; anonymous ones unless ``mode`` is 'all'; never Berth's protected ones."""
        if identity is None:
            return []
        in_use = containers_by([row for row in self.state.containers.values() if row.endpoint == endpoint], 'volumes')
        volumes = [volume for volume in self.state.volumes.values() if volume.endpoint == endpoint]
        return [
            volume
            for volume in prune_candidates(volumes, set(in_use), anonymous_only=mode != 'all')
            if identity.can(Permission.VOLUME_PRUNE, volume.access_scope)
        ]

    def volume_users(self, volume: VolumeRow) -> list[ContainerRow]:
        """The containers (any state) that mount ``volume``, from the live container rows."""
        containers = [row for row in self.state.containers.values() if row.endpoint == volume.endpoint]
        return containers_by(containers, 'volumes').get(volume.name, [])

    def volume_remove_permission(self, volume: VolumeRow, users: list[ContainerRow]) -> tuple[Permission, str]:
        """What removing ``volume`` needs: Berth's own volumes (labelled, or mounted by its containers) are admins'."""
        if self.protection.volume_is_protected(volume.labels, users):
            return Permission.BERTH_INTERNALS, "remove Berth's own volumes"
        return Permission.VOLUME_REMOVE, 'remove volumes'

    def _volume_row(self, name: str, endpoint: str) -> VolumeRow | None:
        return self.state.volume(name, endpoint)
