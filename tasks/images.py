"""Image actors (pull, remove, tag, prune) and the create-and-run actor."""

from __future__ import annotations

from typing import Any

import docker
import dramatiq
from dramatiq.middleware import TimeLimitExceeded

from core.commands import policy
from core.commands.spec import ContainerSpec, SpecError, create_arguments
from core.docker.client import describe_error
from core.docker.reference import parse_reference
from core.operations.pull import PullCancelled, PullFailed, run_pull
from core.state.images import format_size
from core.storage.credentials import TRANSIT_SECONDS, SecretError

from .broker import QUEUE
from .context import JobReporter, WorkerContext, admitted, context

PULL_MINUTES = 60


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=PULL_MINUTES * 60 * 1000)
@admitted
def pull_image(job: dict[str, Any], reference: str, sealed_credentials: str, params: dict[str, Any]) -> None:
    """Pulls one image, publishing per-layer progress (coalesced to ~10 messages a second) until it ends.

    Not retried: a refused credential or an unknown tag would only be refused again. ``sealed_credentials`` is
    the panel's Fernet token (or ''); it is opened here and never logged.
    """
    worker = context()
    job_id = str(job.get('job_id', ''))
    with JobReporter(worker.bus, job) as reporter:
        try:
            who = worker.cancel.requested_by(job_id)
            if who:
                raise PullCancelled(f'cancelled by {who} before it started')
            auth_config = _open_credentials(worker, sealed_credentials)
            client = worker.docker()
            try:
                tracker = run_pull(
                    client.api,
                    parse_reference(reference),
                    auth_config,
                    lambda summary, fraction, detail, output: reporter.publish(
                        'progress', summary, fraction, detail, output
                    ),
                    lambda: worker.cancel.requested_by(job_id),
                )
            finally:
                client.close()
        except (PullCancelled, PullFailed, SecretError) as error:
            reporter.publish('failed', str(error))
            return
        except TimeLimitExceeded:
            reporter.publish('failed', f'the pull took longer than {PULL_MINUTES} minutes')
            return
        except Exception as error:  # unknown image, unreachable registry, refused credentials: the daemon's words
            reporter.publish('failed', describe_error(error))
            return
        finally:
            worker.cancel.clear(job_id)
        layers = [layer for layer in tracker.layers.values() if layer.status != 'Already exists']
        size = sum(layer.total for layer in layers)
        result = (tracker.result or 'pulled').split(' for ', 1)[0]  # 'Downloaded newer image for <reference>'
        if layers:
            result += f' ({len(layers)} new layer{"s" if len(layers) != 1 else ""}, {format_size(size)})'
        reporter.publish('succeeded', result[:1].lower() + result[1:], 1.0, tracker.detail(), tracker.take_output())


def _open_credentials(worker: WorkerContext, sealed: str) -> dict[str, str] | None:
    if not sealed:
        return None
    if worker.secrets is None:
        raise SecretError(
            'this worker has no key to open the registry credentials: give the panel and every '
            'worker the same BERTH_SECRET_KEY (or the same BERTH_DATA_DIR)'
        )
    return worker.secrets.open(sealed, max_age=TRANSIT_SECONDS)


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=10 * 60 * 1000)
@admitted
def image_operation(job: dict[str, Any], operation: str, image_id: str, params: dict[str, Any]) -> None:
    """Removes or tags one image, or removes the confirmed list of a prune; the daemon's message on failure."""
    worker = context()
    with JobReporter(worker.bus, job) as reporter:
        try:
            client = worker.docker()
            try:
                if operation == 'remove':
                    answer = client.api.remove_image(image_id, force=bool(params.get('force')))
                    reporter.publish('succeeded', 'removed', output=_deleted_lines(answer))
                elif operation == 'tag':
                    client.api.tag(image_id, str(params['repository']), str(params['tag']))
                    reporter.publish('succeeded', f'tagged as {params["repository"]}:{params["tag"]}')
                elif operation == 'prune':
                    status, message, output = _prune(client, [str(item) for item in params.get('image_ids') or []])
                    reporter.publish(status, message, output=output)
                else:
                    reporter.publish('failed', f'unknown image operation {operation!r}')
            finally:
                client.close()
        except Exception as error:  # in use, not found, conflict: the daemon's own words
            reporter.publish('failed', describe_error(error))


def _prune(client: docker.DockerClient, image_ids: list[str]) -> tuple[str, str, str]:
    """Removes each confirmed image the way ``docker image prune`` does (every tag, then the image itself)."""
    before = int(client.api.df().get('LayersSize') or 0)
    removed, kept, lines = 0, [], []
    for image_id in image_ids:
        try:
            tags = client.api.inspect_image(image_id).get('RepoTags') or []
            for reference in tags or [image_id]:
                lines.append(_deleted_lines(client.api.remove_image(reference)))
            removed += 1
        except docker.errors.NotFound:
            removed += 1  # gone already: what the user wanted
        except docker.errors.APIError as error:
            kept.append(f'{image_id.removeprefix("sha256:")[:12]}: {describe_error(error)}')
    freed = max(0, before - int(client.api.df().get('LayersSize') or 0))
    message = f'removed {removed} image{"s" if removed != 1 else ""}, {format_size(freed)} reclaimed'
    if kept:
        message += f'; kept {len(kept)}: ' + '; '.join(kept)
    return ('succeeded' if removed or not kept else 'failed'), message, '\n'.join(line for line in lines if line)


def _deleted_lines(answer: Any) -> str:
    lines = []
    for entry in answer or []:
        for key, value in entry.items():
            lines.append(f'{key}: {value}')
    return '\n'.join(lines)


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=5 * 60 * 1000)
@admitted
def create_container(job: dict[str, Any], spec_data: dict[str, Any], params: dict[str, Any]) -> None:
    """Creates (and starts) a container from the spec, after checking the body-level policy again against the
    role the panel verified and signed, and against the protected volumes this worker finds itself."""
    worker = context()
    with JobReporter(worker.bus, job) as reporter:
        try:
            spec = ContainerSpec.from_dict(spec_data)
        except SpecError as error:
            reporter.publish('failed', f'the request is not valid: {error}')
            return
        try:
            client = worker.docker()
            try:
                role = str(job.get('role') or '')  # signed by the panel (core/job_seal.py)
                protected = worker.own_protection(client).protected_volumes(client.api) if role != 'admin' else set()
                reasons = policy.refusals(spec, role, protected)
                if reasons:
                    reporter.publish('failed', f'refused: {"; ".join(reasons)}')
                    return
                created = client.api.create_container(**create_arguments(client.api, spec))
                container_id = str(created['Id'])
                warnings = '\n'.join(f'warning: {warning}' for warning in created.get('Warnings') or [])
                name = str(client.api.inspect_container(container_id)['Name']).lstrip('/')
                if not spec.start:
                    reporter.publish('succeeded', f'created {name} ({container_id[:12]})', output=warnings)
                    return
                try:
                    client.api.start(container_id)
                except docker.errors.APIError as error:
                    reporter.publish(
                        'failed', f'created {name} but it did not start: {describe_error(error)}', output=warnings
                    )
                    return
                reporter.publish('succeeded', f'created and started {name} ({container_id[:12]})', output=warnings)
            finally:
                client.close()
        except Exception as error:  # no such image, name taken, port in use: the daemon's words
            reporter.publish('failed', describe_error(error))
