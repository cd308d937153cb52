"""A stack's files checked by compose itself: ``compose config --format json`` gives the normalised file (what the
policy reads, and, signed into the job, exactly what the worker runs: :func:`signed`) or compose's complaints, placed
on their lines (:mod:`core.stacks.problems`).

:func:`normalise` is blocking (runs compose): call it off the event loop.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.stacks.compose import Compose
from core.stacks.problems import Problem, compose_problems, yaml_problems
from core.stacks.store import COMPOSE_FILE, ENV_FILE, StackFiles

NORMALISED = 'normalised'  # the job's files: the normalised file the panel checked, which the worker runs


@dataclass(kw_only=True, slots=True)
class Checked:
    """The normalised file, or what is wrong with it."""

    config: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    text: str = ''  # the normalised file as compose printed it: what a deploy signs into its job and runs

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def services(self) -> list[str]:
        return sorted(self.config.get('services') or {})

    def container_names(self, project: str) -> dict[str, str]:
        """``container_name`` → service, for the services that set one."""
        return {
            str(service['container_name']): name
            for name, service in (self.config.get('services') or {}).items()
            if (service or {}).get('container_name')
        }


def normalise(compose: Compose, project: str, files: StackFiles, project_directory: Path) -> Checked:
    """Runs ``compose config`` on ``files`` (written to a directory of their own), relative paths resolved against
    ``project_directory``; YAML errors are reported first, with their line, without running compose."""
    problems = yaml_problems(files.compose)
    if problems:
        return Checked(problems=problems)
    with tempfile.TemporaryDirectory(prefix='berth-compose-') as scratch:
        folder = Path(scratch)
        (folder / COMPOSE_FILE).write_text(files.compose)
        (folder / ENV_FILE).write_text(files.env)
        command = compose.command(
            project,
            ['config', '--format', 'json'],
            files=[folder / COMPOSE_FILE],
            project_directory=project_directory,
            env_file=folder / ENV_FILE,
            progress=False,
        )
        try:
            answer = compose.run(command, compose.environment(None, folder), timeout=60)
        except (OSError, subprocess.TimeoutExpired) as error:
            return Checked(problems=[Problem(message=f'could not run compose: {error}')])
    if answer.returncode != 0:
        return Checked(problems=compose_problems(files.compose, answer.stderr))
    return signed(answer.stdout, 'compose answered with something that is not JSON')


def signed(text: str, not_json: str = 'the checked compose file is not JSON') -> Checked:
    """The normalised file ``text`` (compose's JSON, as the panel checked it and signed it into the job) read back,
    without running compose: the worker runs exactly these bytes."""
    try:
        config = json.loads(text)
    except ValueError:
        return Checked(problems=[Problem(message=not_json)])
    if not isinstance(config, dict):
        return Checked(problems=[Problem(message=not_json)])
    if not config.get('services'):
        return Checked(config=config, problems=[Problem(message='the file defines no services', line=1)])
    return Checked(config=config, text=text)
