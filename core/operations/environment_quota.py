"""The worker's quota check: the owner's environments as the engine has them, counted while the owner's quota lock is
held, so that the check and the create (or start) it allows are one step for every worker.

The limits come signed in the job (``params['quota']``, a :class:`core.environments.quotas.Quota`); the owner they are
for must be the container's (or the request's) owner. Start and restart of a container carrying ``berth.environment``
are refused without them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import docker

from core.environments.quotas import QUOTA_PARAM, Held, Quota
from core.environments.templates import ENVIRONMENT_LABEL
from core.jobs.locks import Locks
from core.permissions import OWNER_LABEL


class QuotaRefused(Exception):
    """Beyond a limit, or no signed limits; the message is a sentence."""


def lock_name(owner: str) -> str:
    return f'quota:{owner}'


def signed_quota(params: dict[str, Any], owner: str) -> Quota:
    """The limits the panel signed for ``owner``; raises :class:`QuotaRefused` if they are missing or someone else's."""
    data = params.get(QUOTA_PARAM)
    if not isinstance(data, dict):
        raise QuotaRefused('the job carries no quota for this environment')
    try:
        quota = Quota.from_dict(data)
    except ValueError as error:
        raise QuotaRefused(str(error)) from None
    if quota.owner != owner:
        raise QuotaRefused("the job's quota is for someone else than the environment's owner")
    return quota


def held_of(data: dict[str, Any]) -> Held:
    """One environment container (inspect data) as a quota counts it: running (or paused) or not, and its limits."""
    labels = (data.get('Config') or {}).get('Labels') or {}
    host = data.get('HostConfig') or {}
    return Held(
        name=str(labels.get(ENVIRONMENT_LABEL) or str(data.get('Name', '')).lstrip('/')),
        running=bool((data.get('State') or {}).get('Running')),
        cpus=float(host.get('NanoCpus') or 0) / 1e9,
        memory=int(host.get('Memory') or 0),
    )


def owner_environments(api: docker.APIClient, owner: str) -> list[Held]:
    """Every environment of ``owner`` on the engine, looked up one by one (a listing may lag behind a start)."""
    held = []
    for summary in api.containers(all=True, filters={'label': [f'{OWNER_LABEL}={owner}', ENVIRONMENT_LABEL]}):
        try:
            held.append(held_of(api.inspect_container(summary['Id'])))
        except docker.errors.NotFound:  # removed meanwhile: it counts no more
            continue
    return held


def checked_start(
    api: docker.APIClient, container_id: str, params: dict[str, Any], locks: Locks, start: Callable[[], None]
) -> None:
    """Runs ``start``: at once for a container that is no environment or runs already; else under the owner's quota
    lock, once the signed limits allow one more running environment. Raises :class:`QuotaRefused` with a sentence."""
    data = api.inspect_container(container_id)
    labels = (data.get('Config') or {}).get('Labels') or {}
    if not labels.get(ENVIRONMENT_LABEL):
        start()
        return
    owner = str(labels.get(OWNER_LABEL) or '')
    quota = signed_quota(params, owner)
    if (data.get('State') or {}).get('Running'):
        start()
        return
    with locks.hold(lock_name(owner), f"{quota.username}'s quota"):
        refusal = quota.start_refusal(owner_environments(api, owner), held_of(api.inspect_container(container_id)))
        if refusal:
            raise QuotaRefused(refusal)
        start()
