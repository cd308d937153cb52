"""A stack's files checked by compose itself: ``compose config --format json`` gives the normalised file (what the
policy reads) or compose's complaints, placed on their lines (:mod:`core.stacks.problems`).

Blocking (runs compose): call it off the event loop.
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


@dataclass(kw_only=True, slots=True)
class Checked:
    """The normalised file, or what is wrong with it."""

    config: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

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
    try:
        config = json.loads(answer.stdout)
    except ValueError:
        return Checked(problems=[Problem(message='compose answered with something that is not JSON')])
    if not config.get('services'):
        return Checked(config=config, problems=[Problem(message='the file defines no services', line=1)])
    return Checked(config=config)
