"""Image actors (pull, remove, tag, prune) and the create-and-run actor."""

from __future__ import annotations

from typing import Any

from dramatiq.middleware import TimeLimitExceeded

from core.jobs.store import JobStatus
from core.operations import create, images, pull

from .context import Run, actor

PULL_MINUTES = 60


@actor(minutes=PULL_MINUTES)
def pull_image(run: Run, reference: str, sealed_credentials: str, params: dict[str, Any]) -> None:
    """Pulls one image with per-layer progress; ``sealed_credentials`` is the panel's Fernet token (or '')."""
    try:
        pull.pull_image(
            run.endpoint,
            run.reporter,
            run.job_id,
            reference,
            sealed_credentials,
            cancel=run.context.cancel,
            secrets=run.context.secrets,
        )
    except TimeLimitExceeded:
        run.reporter.publish(JobStatus.FAILED, f'the pull took longer than {PULL_MINUTES} minutes')


@actor(minutes=10)
def image_operation(run: Run, operation: str, image_id: str, params: dict[str, Any]) -> None:
    """Removes or tags one image, or removes the confirmed list of a prune."""
    images.image_operation(run.endpoint, run.reporter, operation, image_id, params)


@actor(minutes=5)
def create_container(run: Run, spec_data: dict[str, Any], params: dict[str, Any]) -> None:
    """Creates (and starts) a container, after checking the body-level policy again against the role the panel
    verified and signed, and against the protected volumes this worker finds itself."""
    role = str(run.job.get('role') or '')  # signed by the panel (core/jobs/seal.py)
    create.create_container(run.endpoint, run.reporter, spec_data, role, run.own_protection)
