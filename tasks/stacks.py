"""The stack actor: deploy, stop, start, restart, down, pull and update, each holding the stack's lock."""

from __future__ import annotations

from typing import Any

from dramatiq.middleware import TimeLimitExceeded

from core.jobs.store import JobStatus
from core.operations import stacks
from core.stacks.actions import parse_stack_action

from .context import Run, actor

STACK_MINUTES = 60


@actor(minutes=STACK_MINUTES)
def stack_operation(run: Run, name: str, params: dict[str, Any]) -> None:
    """One stack action; the files the panel signed pass compose config and the body policy again here, with the role
    the panel signed and the protected volumes this worker finds itself."""
    action = parse_stack_action(str(run.job.get('kind') or ''))
    if action is None:
        run.reporter.publish(JobStatus.FAILED, f'refused: a {run.job.get("kind")} job is not a stack action')
        return
    try:
        stacks.stack_operation(
            run.endpoint,
            run.reporter,
            run.context.locks,
            action,
            name,
            params,
            str(run.job.get('role') or ''),  # signed by the panel (core/jobs/seal.py)
            run.own_protection,
            run.context.stacks_root,
            run.context.secrets,  # opens the registry credentials the panel sealed for compose's pulls
        )
    except TimeLimitExceeded:
        run.reporter.publish(JobStatus.FAILED, f'the stack action took longer than {STACK_MINUTES} minutes')
