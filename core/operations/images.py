"""Removing, tagging and pruning images, as a worker runs them."""

from __future__ import annotations

from contextlib import closing
from typing import Any

import docker

from core.docker.client import describe_error
from core.docker.endpoints import Endpoint
from core.jobs.store import JobStatus
from core.operations.report import JobReporter
from core.state.images import format_size


def image_operation(
    endpoint: Endpoint, reporter: JobReporter, operation: str, image_id: str, params: dict[str, Any]
) -> None:
    """The job: removes or tags one image, or removes the confirmed list of a prune; the daemon's message on failure."""
    try:
        with closing(endpoint.connect()) as client:
            if operation == 'remove':
                answer = client.api.remove_image(image_id, force=bool(params.get('force')))
                reporter.publish(JobStatus.SUCCEEDED, 'removed', output=deleted_lines(answer))
            elif operation == 'tag':
                client.api.tag(image_id, str(params['repository']), str(params['tag']))
                reporter.publish(JobStatus.SUCCEEDED, f'tagged as {params["repository"]}:{params["tag"]}')
            elif operation == 'prune':
                status, message, output = prune(client, [str(item) for item in params.get('image_ids') or []])
                reporter.publish(status, message, output=output)
            else:
                reporter.publish(JobStatus.FAILED, f'unknown image operation {operation!r}')
    except Exception as error:  # in use, not found, conflict: the daemon's own words
        reporter.publish(JobStatus.FAILED, describe_error(error))


def prune(client: docker.DockerClient, image_ids: list[str]) -> tuple[str, str, str]:
    """Removes each confirmed image the way ``docker image prune`` does (every tag, then the image itself)."""
    before = int(client.api.df().get('LayersSize') or 0)
    removed, kept, lines = 0, [], []
    for image_id in image_ids:
        try:
            tags = client.api.inspect_image(image_id).get('RepoTags') or []
            for reference in tags or [image_id]:
                lines.append(deleted_lines(client.api.remove_image(reference)))
            removed += 1
        except docker.errors.NotFound:
            removed += 1  # gone already: what the user wanted
        except docker.errors.APIError as error:
            kept.append(f'{image_id.removeprefix("sha256:")[:12]}: {describe_error(error)}')
    freed = max(0, before - int(client.api.df().get('LayersSize') or 0))
    message = f'removed {removed} image{"s" if removed != 1 else ""}, {format_size(freed)} reclaimed'
    if kept:
        message += f'; kept {len(kept)}: ' + '; '.join(kept)
    return (
        (JobStatus.SUCCEEDED if removed or not kept else JobStatus.FAILED),
        message,
        '\n'.join(line for line in lines if line),
    )


def deleted_lines(answer: Any) -> str:
    lines = []
    for entry in answer or []:
        for key, value in entry.items():
            lines.append(f'{key}: {value}')
    return '\n'.join(lines)
