"""Creating (and starting) a container from a spec, as a worker runs it: the body-level policy is checked again."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from typing import Any

import docker

from core.commands import policy
from core.commands.spec import ContainerSpec, SpecError, create_arguments
from core.docker.client import describe_error
from core.docker.endpoints import Endpoint
from core.jobs.store import JobStatus
from core.operations.report import JobReporter
from core.protection import Protection


def create_container(
    endpoint: Endpoint,
    reporter: JobReporter,
    spec_data: dict[str, Any],
    role: str,
    protection: Callable[[docker.DockerClient], Protection],
) -> None:
    """The job: checks the body-level policy against ``role`` (the one the panel verified and signed) and the protected
    volumes this worker finds itself (``protection`` gives its own containers), then creates and maybe starts."""
    try:
        spec = ContainerSpec.from_dict(spec_data)
    except SpecError as error:
        reporter.publish(JobStatus.FAILED, f'the request is not valid: {error}')
        return
    try:
        with closing(endpoint.connect()) as client:
            protected = protection(client).protected_volumes(client.api) if role != 'admin' else set()
            reasons = policy.refusals(spec, role, protected)
            if reasons:
                reporter.publish(JobStatus.FAILED, f'refused: {"; ".join(reasons)}')
                return
            created = client.api.create_container(**create_arguments(client.api, spec))
            container_id = str(created['Id'])
            warnings = '\n'.join(f'warning: {warning}' for warning in created.get('Warnings') or [])
            name = str(client.api.inspect_container(container_id)['Name']).lstrip('/')
            if not spec.start:
                reporter.publish(JobStatus.SUCCEEDED, f'created {name} ({container_id[:12]})', output=warnings)
                return
            try:
                client.api.start(container_id)
            except docker.errors.APIError as error:
                reporter.publish(
                    JobStatus.FAILED, f'created {name} but it did not start: {describe_error(error)}', output=warnings
                )
                return
            reporter.publish(JobStatus.SUCCEEDED, f'created and started {name} ({container_id[:12]})', output=warnings)
    except Exception as error:  # no such image, name taken, port in use: the daemon's words
        reporter.publish(JobStatus.FAILED, describe_error(error))
