"""Flow 2 for image update checks: on demand ("Check for updates" on /images) and on the schedule (as the system).

A mixin of `Commands` (core/commands/dispatch.py). A check asks registries with the credentials users saved, as a
pull would, so it needs ``image.pull`` (operators and admins) on the endpoint; what it finds is seen by everyone who
sees the images and containers.
"""

from __future__ import annotations

from nicegui import run

from core.commands.base import CommandBase
from core.docker.reference import parse_reference
from core.errors import CommandError
from core.jobs.store import Job
from core.permissions import LOCAL_ENDPOINT, Identity, Permission, Scope
from core.storage.credentials import RegistryCredentials
from core.updates.check import KIND, references_in_use

WHAT = 'check images for updates'


class UpdateCommands(CommandBase):
    """The update check commands; ``Commands`` provides the state, the credentials and ``dispatch``."""

    credentials: RegistryCredentials | None

    async def check_updates(self, identity: Identity | None, endpoint: str = LOCAL_ENDPOINT) -> Job:
        """Queues a check of every image reference the containers on ``endpoint`` were created from."""
        scope = Scope(endpoint=endpoint)
        self._require(identity, Permission.IMAGE_PULL, WHAT, KIND, endpoint, scope=scope)
        references = references_in_use(self.state.containers.values(), endpoint)
        if not references:
            raise CommandError(f'no container on {endpoint} uses an image reference to check')
        return await self.update_check(identity, endpoint, references)

    async def update_check(self, identity: Identity | None, endpoint: str, references: list[str]) -> Job:
        """Queues a check of ``references`` on ``endpoint`` (the schedule calls this as the system): the saved
        credentials of their registries go sealed with the job, never into the audit log."""
        registries = sorted({parse_reference(reference).registry_key for reference in references})
        sealed = await run.io_bound(self._sealed_credentials, registries) or {}
        return await self.dispatch(
            identity,
            permission=Permission.IMAGE_PULL,
            what=WHAT,
            kind=KIND,
            target=endpoint,
            target_name=endpoint,
            params={},
            audit_params={'references': references, 'credentials': sorted(sealed)},
            arguments=(references, sealed),
            scope=Scope(endpoint=endpoint),
        )

    def _sealed_credentials(self, registries: list[str]) -> dict[str, str]:
        """Registry → its saved credentials sealed for the worker (registries without any are left out)."""
        return {} if self.credentials is None else self.credentials.sealed_for(registries)
