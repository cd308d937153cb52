"""Flow 2 for the script sandbox: run a script in a runtime, cancel a run.

A mixin of `Commands` (core/commands/dispatch.py), like :class:`core.commands.images.ImageCommands`. A run is asked
for on the requester's own scope (a run is theirs: a developer's runs are its own); the runtime must exist and its
body pass the create policy (as an operator's request); the script, input and arguments must be within bounds. The
job is queued, audited (runtime, script hash and sizes — never the script) and signed at once, then waits in the run
line (core/sandbox/line.py) until the limits let it start.
"""

from __future__ import annotations

import time
from typing import Any

from nicegui import run

from core.commands.base import CommandBase
from core.errors import CommandError
from core.jobs.cancel import CancelFlags
from core.jobs.store import ACTIVE, Job, JobStatus, JobUpdate
from core.permissions import ANYWHERE, Forbidden, Identity, Permission, Scope
from core.sandbox.run import RunRefused, RunRequest, RunResult, StopReason, parse_arguments
from core.sandbox.runs import KIND, RunPhase
from core.sandbox.runtimes import Runtime
from core.sandbox.service import Sandbox

WHAT = 'run scripts'


class SandboxCommands(CommandBase):
    """The sandbox commands; ``Commands`` provides the sandbox and the cancel flags."""

    sandbox: Sandbox | None
    cancel: CancelFlags | None

    async def run_script(
        self, identity: Identity | None, *, runtime: str, script: str, stdin: str = '', arguments: str = ''
    ) -> Job:
        """Queues a run of ``script`` in the runtime named ``runtime``, with ``stdin`` as its input and ``arguments``
        split as a shell would; returns its job (whose id is the run's)."""
        asked: dict[str, Any] = {'runtime': runtime}
        own = Scope(owner=identity.owner_id) if identity is not None else ANYWHERE
        identity = self._require(identity, Permission.SANDBOX_RUN, WHAT, KIND, runtime, asked, scope=own)
        sandbox = self._sandbox()
        chosen = await self._runtime(runtime)
        try:
            request = RunRequest(
                runtime=chosen,
                script=script,
                stdin=stdin,
                arguments=parse_arguments(arguments),
                owner=identity.owner_id,
                username=identity.username,
                isolation=sandbox.isolation,
            )
            request.check(script_max=sandbox.script_max, stdin_max=sandbox.stdin_max)
        except RunRefused as refusal:
            raise CommandError(str(refusal)) from None
        asked.update(
            image=chosen.image,
            script_sha256=request.script_sha256,
            script_bytes=len(request.script_bytes),
            stdin_bytes=len(request.stdin_bytes),
            arguments=len(request.arguments),
        )
        refused = chosen.refusals()
        if refused:
            refused_body = Forbidden(f'the runtime {chosen.name} is refused: {"; ".join(refused)}')
            self._refused(identity, KIND, chosen.name, asked, refused_body)
            raise refused_body
        return await self.dispatch(
            identity,
            permission=Permission.SANDBOX_RUN,
            what=WHAT,
            kind=KIND,
            target=chosen.name,
            target_name=f'a {chosen.name} script',
            params={'request': request.to_dict(), 'requester': identity.owner_id},
            audit_params=asked,
            scope=own,
            hold=sandbox.hold(request),
        )

    def cancel_run(self, identity: Identity | None, run_id: str) -> None:
        """Stops a run: one still waiting leaves the line at once; a running one is killed by its worker. Needs
        ``sandbox.run`` on the run's scope (a developer cancels its own runs)."""
        sandbox = self._sandbox()
        found = sandbox.runs.get(run_id)
        scope = found.scope if found is not None else ANYWHERE
        target = f'a {found.runtime} script' if found is not None else run_id
        identity = self._require(
            identity, Permission.SANDBOX_RUN, 'cancel runs', 'sandbox.cancel', target, {'run': run_id}, scope=scope
        )
        job = self.jobs.jobs.get(run_id)
        if found is None or job is None or found.phase == RunPhase.FINISHED or job.status not in ACTIVE:
            raise CommandError('the run has already ended')
        if sandbox.line.leave(run_id):
            result = RunResult(stopped=StopReason.CANCELLED.value, stopped_by=identity.username)
            self.jobs.apply(
                JobUpdate(
                    job_id=job.job_id,
                    status=JobStatus.FAILED,
                    kind=job.kind,
                    target=job.target,
                    target_name=job.target_name,
                    requested_by=job.requested_by,
                    endpoint=job.endpoint,
                    owner=job.owner,
                    message=f'{result.headline()} before it started',
                    detail={'result': result.to_dict()},
                    at=time.time(),
                )
            )
        elif self.cancel is not None:
            self.cancel.request(run_id, identity.username)
        else:
            raise CommandError('cancelling is not available')
        self.audit.record(
            username=identity.username,
            role=identity.role,
            action='sandbox.cancel',
            target=target,
            params={'run': run_id},
            result='requested',
            address=identity.address,
            endpoint=scope.endpoint,
        )

    def _sandbox(self) -> Sandbox:
        if self.sandbox is None:
            raise CommandError('the sandbox is not set up on this panel')
        return self.sandbox

    async def _runtime(self, name: str) -> Runtime:
        sandbox = self._sandbox()
        found = await run.io_bound(sandbox.runtimes.get, name) if name else None
        if found is None:
            raise CommandError(f'there is no runtime named {name or "(none)"}')
        return found
