"""A stack action as a worker runs it: under the stack's lock, the files the panel signed checked again (the paths
the raw file names, the body policy on the normalised file the panel signed, with the signed role and the protected
volumes found here), then compose itself on exactly that normalised file (``-f -``), its events folded into a
per-service deployment log published as the job's progress, detail and output."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import docker

from core.docker.client import ENGINE_UNREACHABLE
from core.docker.endpoints import Endpoint
from core.jobs.locks import LockBusy, Locks
from core.jobs.store import JobStatus
from core.operations.pull import open_credentials
from core.operations.report import JobReporter
from core.protection import Protection
from core.stacks import policy
from core.stacks.actions import StackAction
from core.stacks.compose import STDIN, Compose, ComposeMissing, StreamedRun, default_compose
from core.stacks.config import NORMALISED, Checked, normalise, signed
from core.stacks.connection import ConnectionRefused, compose_connection
from core.stacks.events import STACK, DeployLog
from core.stacks.registry_auth import docker_config
from core.stacks.store import COMPOSE_FILE, ENV_FILE, StackError, StackFiles, check_name, write_file
from core.storage.credentials import SecretBox, SecretError

PUBLISH_SECONDS = 0.1
LOCK_SECONDS = 65 * 60  # a dead worker's lock outlives the actor's time limit, never much longer


class StackRefused(Exception):
    """The files or the role do not allow the action; the message is a sentence."""


def stack_operation(
    endpoint: Endpoint,
    reporter: JobReporter,
    locks: Locks,
    action: StackAction,
    name: str,
    params: dict[str, Any],
    role: str,
    protection: Callable[[docker.DockerClient], Protection],
    stacks_root: Path | None,
    secrets: SecretBox | None = None,
    compose: Compose | None = None,
) -> None:
    """The job: ``action`` on the stack ``name`` of ``endpoint``; every outcome is published. ``secrets`` opens the
    registry credentials the panel sealed into ``params['credentials']`` for compose's pulls."""
    try:
        check_name(name)
        compose = compose or default_compose()
        credentials = opened_credentials(secrets, params.get('credentials'))
        with locks.hold(f'stack:{endpoint.id}:{name}', f'the stack {name}', seconds=LOCK_SECONDS):
            run_action(endpoint, reporter, compose, action, name, params, role, protection, stacks_root, credentials)
    except (StackError, StackRefused, ComposeMissing, LockBusy, ConnectionRefused, SecretError) as refusal:
        reporter.publish(JobStatus.FAILED, str(refusal))


def run_action(
    endpoint: Endpoint,
    reporter: JobReporter,
    compose: Compose,
    action: StackAction,
    name: str,
    params: dict[str, Any],
    role: str,
    protection: Callable[[docker.DockerClient], Protection],
    stacks_root: Path | None,
    credentials: dict[str, dict[str, str]] | None = None,
) -> None:
    spec = action.spec
    files: list[Path] = []
    stdin: str | None = None
    directory: Path | None = None
    container_names: dict[str, str] = {}
    if spec.files:
        data = params.get('files')
        if not isinstance(data, dict):
            raise StackRefused(f'the job carries no files for {name}')
        stack_files = StackFiles(compose=str(data.get('compose') or ''), env=str(data.get('env') or ''))
        stack_files.check()
        refused = policy.path_refusals(stack_files.compose, role)
        if refused:
            raise StackRefused(f'refused: {"; ".join(refused)}')
        directory = project_directory(stacks_root, endpoint.id, name, stack_files)
        checked = checked_file(compose, name, stack_files, directory, data.get(NORMALISED))
        if not checked.ok:
            raise StackRefused('the compose file is not valid: ' + '; '.join(map(str, checked.problems)))
        if spec.creates and not policy.is_admin(role):
            with closing(endpoint.connect()) as client:
                protected = protection(client).protected_volumes(client.api)
            refused = policy.refusals(checked.config, role, protected)
            if refused:
                raise StackRefused(f'refused: {"; ".join(refused)}')
        files, stdin = [STDIN], checked.text  # what was checked is what runs
        container_names = checked.container_names(name)
    log = DeployLog(name, container_names)
    with (
        tempfile.TemporaryDirectory(prefix='berth-compose-home-') as home,
        compose_connection(endpoint) as engine,
        docker_config(credentials or {}) as config,
    ):
        environment = {**compose.environment(None, Path(home)), **engine}  # the endpoint's address and TLS material
        environment['DOCKER_CONFIG'] = str(config)  # the saved registry credentials, for this run only
        for step in steps_of(action, params):
            command = compose.command(name, step, files=files, project_directory=directory)
            returncode = stream(StreamedRun(command, environment, stdin=stdin), log, reporter)
            if returncode != 0:
                message = failure(log, step, returncode)
                if not engine_answers(endpoint):  # compose's words name sockets and URLs: the detail keeps them
                    message = ENGINE_UNREACHABLE
                reporter.publish(JobStatus.FAILED, message, detail=log.to_detail(), output=log.take_lines())
                return
    reporter.publish(JobStatus.SUCCEEDED, summary(action, name, log), detail=log.to_detail(), output=log.take_lines())


def opened_credentials(secrets: SecretBox | None, sealed: Any) -> dict[str, dict[str, str]]:
    """Registry → username and password, from what the panel sealed (never logged)."""
    if not isinstance(sealed, dict):
        return {}
    opened = {registry: open_credentials(secrets, str(token)) for registry, token in sealed.items()}
    return {str(registry): credential for registry, credential in opened.items() if credential is not None}


def checked_file(compose: Compose, name: str, files: StackFiles, directory: Path, normalised: Any) -> Checked:
    """The normalised file the panel checked and signed into the job, read back without running compose; a job that
    carries none (sent past the command layer) gets it from compose here."""
    if isinstance(normalised, str) and normalised:
        return signed(normalised)
    return normalise(compose, name, files, directory)


def engine_answers(endpoint: Endpoint) -> bool:
    """Does the endpoint's engine answer a ping (asked when compose failed: was it the engine that went away)?"""
    try:
        with closing(endpoint.connect(timeout=10)) as client:
            client.ping()
    except Exception:  # any failure to reach it: unreachable, refused, timed out
        return False
    return True


def steps_of(action: StackAction, params: dict[str, Any]) -> list[tuple[str, ...]]:
    steps = [tuple(step) for step in action.spec.steps]
    if action == StackAction.DOWN and params.get('remove_volumes'):
        steps = [(*steps[0], '--volumes')]
    return steps


def stream(run: StreamedRun, log: DeployLog, reporter: JobReporter) -> int:
    """Feeds compose's lines to ``log``, publishing at most every :data:`PUBLISH_SECONDS`; compose is killed if the
    job ends early (time limit)."""
    last = 0.0
    try:
        for line in run.lines():
            log.feed(line)
            now = time.monotonic()
            if log.changed and now - last >= PUBLISH_SECONDS:
                last, log.changed = now, False
                reporter.publish(JobStatus.PROGRESS, detail=log.to_detail(), output=log.take_lines())
        return run.wait()
    finally:
        run.kill()


def project_directory(stacks_root: Path | None, endpoint_id: str, name: str, files: StackFiles) -> Path:
    """Where compose runs the stack: its directory under the data directory when it holds these files (the panel
    wrote them) or can be written; else a directory of this worker's own (a read-only data directory)."""
    if stacks_root is not None:
        directory = stacks_root / name
        if holds(directory, files):
            return directory
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_file(directory / COMPOSE_FILE, files.compose)
            write_file(directory / ENV_FILE, files.env)
            return directory
        except OSError:
            pass
    directory = Path(tempfile.gettempdir()) / 'berth-stacks' / endpoint_id / name
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_file(directory / COMPOSE_FILE, files.compose)
    write_file(directory / ENV_FILE, files.env)
    return directory


def holds(directory: Path, files: StackFiles) -> bool:
    try:
        env = directory / ENV_FILE
        return (directory / COMPOSE_FILE).read_text() == files.compose and (
            env.read_text() if env.exists() else ''
        ) == files.env
    except OSError:
        return False


def summary(action: StackAction, name: str, log: DeployLog) -> str:
    services = [service for service in log.services.values() if service.name != STACK]
    if not services:
        return f'{action.spec.past} {name}'
    states = ', '.join(f'{service.name} {service.state.lower()}' for service in services)
    return f'{action.spec.past} {name}: {states}'


def failure(log: DeployLog, step: tuple[str, ...], returncode: int) -> str:
    if log.errors:
        return log.errors[-1]
    return f'compose {step[0]} failed (exit code {returncode})'
