"""A check for image updates, as a worker runs it: for each reference, the image it names on the engine and the digest
its registry names under the tag (core/updates). The results travel back in the job's last update."""

from __future__ import annotations

from contextlib import closing
from typing import Any

import docker

from core.docker.client import describe_error
from core.docker.endpoints import Endpoint
from core.jobs.store import JobStatus
from core.operations.pull import open_credentials
from core.operations.report import JobReporter
from core.storage.credentials import SecretBox, SecretError
from core.updates.check import UpdateResult, UpdateStatus, check_reference
from core.updates.registry import RegistryClient, insecure_registries


def check_updates(
    endpoint: Endpoint,
    reporter: JobReporter,
    references: list[str],
    sealed_credentials: dict[str, str],
    secrets: SecretBox | None,
) -> None:
    """The job: checks each reference (one registry request each, at most), publishing how far it got; ends with
    every result in ``detail['results']`` and a line per reference in the output. ``sealed_credentials`` maps a
    registry to the credentials the panel saved for it, sealed (opened here, never logged)."""
    try:
        credentials = {
            registry: opened
            for registry, token in sealed_credentials.items()
            if (opened := open_credentials(secrets, token)) is not None
        }
    except SecretError as error:
        reporter.publish(JobStatus.FAILED, str(error))
        return
    results: list[UpdateResult] = []
    try:
        with closing(endpoint.connect()) as client:
            insecure = insecure_registries(client.info().get('RegistryConfig') or {})
            with RegistryClient(insecure=insecure) as registry:
                for index, key in enumerate(references):
                    results.append(
                        check_reference(
                            key,
                            lambda name: inspect(client, name),
                            lambda reference: registry.digest(reference, credentials.get(reference.registry_key)),
                        )
                    )
                    reporter.publish(
                        JobStatus.PROGRESS, f'{index + 1} of {len(references)} checked', (index + 1) / len(references)
                    )
    except Exception as error:  # the engine went away: the daemon's words
        reporter.publish(JobStatus.FAILED, describe_error(error))
        return
    reporter.publish(
        JobStatus.SUCCEEDED,
        summary(results),
        1.0,
        {'results': [result.to_dict() for result in results]},
        '\n'.join(result.line() for result in results),
    )


def inspect(client: docker.DockerClient, reference: str) -> dict[str, Any] | None:
    try:
        return dict(client.api.inspect_image(reference))
    except docker.errors.NotFound:
        return None


def summary(results: list[UpdateResult]) -> str:
    """'3 images checked: 1 update available, 1 not known' style."""
    counts = {status: sum(1 for result in results if result.status == status) for status in UpdateStatus}
    parts = [
        f'{counts[UpdateStatus.AVAILABLE]} update{"s" if counts[UpdateStatus.AVAILABLE] != 1 else ""} available',
        *([f'{counts[UpdateStatus.CURRENT]} up to date'] if counts[UpdateStatus.CURRENT] else []),
        *([f'{counts[UpdateStatus.UNKNOWN]} not known'] if counts[UpdateStatus.UNKNOWN] else []),
        *(
            [f'{counts[UpdateStatus.LOCAL] + counts[UpdateStatus.PINNED]} skipped (local or pinned)']
            if counts[UpdateStatus.LOCAL] + counts[UpdateStatus.PINNED]
            else []
        ),
    ]
    return f'{len(results)} image{"s" if len(results) != 1 else ""} checked: ' + ', '.join(parts)
