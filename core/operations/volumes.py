"""Creating, removing and pruning volumes, as a worker runs them.

The worker does not take the panel's word for what the role may do: driver options and Berth's own labels are checked
again against the role the panel signed, and Berth's protected volumes are looked up here, on the engine, for a
non-admin. A prune removes exactly the names the user confirmed, one by one (never the engine's own prune, which
would take whatever qualifies by then).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from typing import Any

import docker

from core.commands.volume_input import VolumeRequest
from core.docker.client import describe_error
from core.docker.endpoints import Endpoint
from core.jobs.store import JobStatus
from core.operations.report import JobReporter
from core.permissions import Permission, lowest_role, role_allows
from core.protection import Protection
from core.state.images import format_size
from core.state.volumes import volume_sizes

Outcome = tuple[str, str, str]  # status, message, output


def volume_operation(
    endpoint: Endpoint,
    reporter: JobReporter,
    operation: str,
    name: str,
    params: dict[str, Any],
    role: str,
    protection: Callable[[docker.DockerClient], Protection],
) -> None:
    """The job: creates or removes one volume, or removes the confirmed list of a prune; the daemon's words on
    failure. ``role`` is the one the panel verified and signed; ``protection`` gives this worker's own containers."""
    try:
        with closing(endpoint.connect()) as client:

            def protected() -> set[str]:
                if role_allows(role, Permission.BERTH_INTERNALS):
                    return set()
                return protection(client).protected_volumes(client.api)

            if operation == 'create':
                outcome = create(client, VolumeRequest.from_params(name, params), role)
            elif operation == 'remove':
                outcome = remove(client, name, params, protected())
            elif operation == 'prune':
                outcome = prune(client, [str(item) for item in params.get('names') or []], protected())
            else:
                outcome = (JobStatus.FAILED, f'unknown volume operation {operation!r}', '')
            status, message, output = outcome
            reporter.publish(status, message, output=output)
    except Exception as error:  # in use, not found, a driver's failure: the daemon's own words
        reporter.publish(JobStatus.FAILED, describe_error(error))


def create(client: docker.DockerClient, request: VolumeRequest, role: str) -> Outcome:
    if request.driver_options and not role_allows(role, Permission.VOLUME_DRIVER_OPTIONS):
        needs = lowest_role(Permission.VOLUME_DRIVER_OPTIONS)
        return JobStatus.FAILED, f'refused: volume driver options need the {needs} role', ''
    if request.reserved_labels and not role_allows(role, Permission.BERTH_INTERNALS):
        labels = ', '.join(request.reserved_labels)
        return JobStatus.FAILED, f"refused: Berth's own labels ({labels}) need the admin role", ''
    try:
        client.api.inspect_volume(request.name)
        return JobStatus.FAILED, f'a volume named {request.name} already exists', ''  # the engine would just say yes
    except docker.errors.NotFound:
        pass
    created = client.api.create_volume(
        name=request.name,
        driver=request.driver,
        driver_opts=request.driver_options or None,
        labels=request.labels or None,
    )
    return JobStatus.SUCCEEDED, f'created (driver {created.get("Driver") or request.driver})', ''


def remove(client: docker.DockerClient, name: str, params: dict[str, Any], protected: set[str]) -> Outcome:
    """Removes the volume; when forced, first the containers the user confirmed (and refuses when others started
    using it meanwhile)."""
    if name in protected:
        refusal = f"refused: {name} is one of Berth's protected volumes: removing it needs the admin role"
        return JobStatus.FAILED, refusal, ''
    force = bool(params.get('force'))
    confirmed = {str(container_id) for container_id in params.get('containers') or []}
    removed_containers: list[str] = []
    if force:
        users = {str(summary['Id']): summary for summary in client.api.containers(all=True, filters={'volume': name})}
        others = [container_name(summary) for container_id, summary in users.items() if container_id not in confirmed]
        if others:
            return (
                JobStatus.FAILED,
                f'{", ".join(others)} started using {name} meanwhile: look again and confirm',
                '',
            )
        for container_id, summary in users.items():
            client.api.remove_container(container_id, force=True)
            removed_containers.append(container_name(summary))
    client.api.remove_volume(name, force=force)
    if removed_containers:
        return JobStatus.SUCCEEDED, f'removed, with the containers that used it: {", ".join(removed_containers)}', ''
    return JobStatus.SUCCEEDED, 'removed', ''


def prune(client: docker.DockerClient, names: list[str], protected: set[str]) -> Outcome:
    """Removes each confirmed volume; one the engine refuses (in use by now, say) is kept, with its words."""
    try:
        sizes = volume_sizes(client.api.df())  # measured before: a removed volume's size is what comes back
    except docker.errors.APIError:
        sizes = {}
    removed, freed, kept, lines = 0, 0, [], []
    for name in names:
        if name in protected:
            kept.append(f"{name}: one of Berth's protected volumes (the admin role removes it)")
            continue
        try:
            client.api.remove_volume(name)
        except docker.errors.NotFound:
            lines.append(f'{name}: gone already')
            continue
        except docker.errors.APIError as error:
            kept.append(f'{name}: {describe_error(error)}')
            continue
        removed += 1
        freed += sizes.get(name, 0)
        lines.append(f'removed {name}' + (f' ({format_size(sizes[name])})' if name in sizes else ''))
    message = f'removed {removed} volume{"s" if removed != 1 else ""}, {format_size(freed)} reclaimed'
    if kept:
        message += f'; kept {len(kept)}: ' + '; '.join(kept)
    status = JobStatus.SUCCEEDED if removed or not kept else JobStatus.FAILED
    return status, message, '\n'.join(lines + [f'kept {line}' for line in kept])


def container_name(summary: dict[str, Any]) -> str:
    names = summary.get('Names') or []
    return str(names[0]).lstrip('/') if names else str(summary.get('Id', ''))[:12]
