"""What is wrong with a compose file, with the line it is on: YAML errors from PyYAML's marks, and compose's own
messages (unknown keys, wrong types, interpolation) placed on the line of the key they name.

Compose reports a place as a dotted path (``services.web additional properties 'foo' not allowed``); the path is
looked up in the YAML node tree, whose nodes know their lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

# compose's messages, after the "validating FILE: " / "failed to parse FILE: " prefix
UNKNOWN_KEY = re.compile(r"^(?P<path>\S*)\s*additional propert(?:y|ies) (?P<keys>'[^']+'(?:,\s*'[^']+')*) not allowed")
PATH_MESSAGE = re.compile(r'^(?P<path>[A-Za-z0-9_.\-]+) (?P<rest>(?:must|is|does|should|Additional|contains).*)$')
YAML_LINE = re.compile(r'yaml: (?:unmarshal errors:\s*)?line (?P<line>\d+): (?P<rest>.*)')
INTERPOLATION = re.compile(r'error while interpolating (?P<path>[A-Za-z0-9_.\-\[\]]+): (?P<rest>.*)')
SERVICE = re.compile(r'service "(?P<service>[^"]+)"')
FILE_PREFIX = re.compile(r'^(?:validating|failed to parse|failed to load|parsing) [^:]+: ')


@dataclass(kw_only=True, slots=True, frozen=True)
class Problem:
    message: str
    line: int | None = None  # 1-based; None when compose names no place in the file

    def __str__(self) -> str:
        return f'line {self.line}: {self.message}' if self.line else self.message


def yaml_problems(text: str) -> list[Problem]:
    """Syntax errors (with their line) and a top level that is not a mapping; empty when PyYAML reads the file."""
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        what = ' '.join(part for part in (error.context, error.problem) if part)
        return [Problem(message=f'invalid YAML: {what}', line=mark.line + 1 if mark else None)]
    except yaml.YAMLError as error:
        return [Problem(message=f'invalid YAML: {error}')]
    if not isinstance(data, dict):
        return [Problem(message='a compose file is a mapping (services: …) at the top level', line=1)]
    return []


def compose_problems(text: str, stderr: str) -> list[Problem]:
    """Compose's error output as problems, each on the line of the key it names when the file has that key."""
    problems = []
    for raw in stderr.strip().splitlines():
        message = FILE_PREFIX.sub('', raw.strip())
        if not message:
            continue
        problems.append(place(text, message))
    return problems or [Problem(message='compose refused the file without saying why')]


def place(text: str, message: str) -> Problem:
    match = UNKNOWN_KEY.match(message)
    if match:
        keys = re.findall(r"'([^']+)'", match['keys'])
        path = [*split(match['path']), keys[0]] if keys else split(match['path'])
        where = f'{match["path"]}: ' if match['path'] else ''
        names = ', '.join(keys)
        noun = 'key' if len(keys) == 1 else 'keys'
        return Problem(message=f'{where}unknown {noun} {names}', line=line_of(text, path))
    match = YAML_LINE.search(message)
    if match:
        return Problem(message=f'invalid YAML: {match["rest"]}', line=int(match['line']))
    match = INTERPOLATION.match(message)
    if match:
        return Problem(message=f'{match["path"]}: {match["rest"]}', line=line_of(text, split(match['path'])))
    match = PATH_MESSAGE.match(message)
    if match:
        return Problem(message=message, line=line_of(text, split(match['path'])))
    match = SERVICE.search(message)
    if match:
        return Problem(message=message, line=line_of(text, ['services', match['service']]))
    return Problem(message=message)


def split(path: str) -> list[str]:
    """'services.web.ports[0]' → ['services', 'web', 'ports', '0']."""
    return [part for part in re.split(r'\.|\[(\d+)\]', path) if part]


def line_of(text: str, path: list[str]) -> int | None:
    """The 1-based line of the key (or item) at ``path``; the nearest enclosing one found; None without any."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    found: int | None = None
    remaining = list(path)
    while node is not None and remaining:
        step: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            # keys may hold dots themselves (labels): the longest key that matches the path's next parts wins
            for length in range(len(remaining), 0, -1):
                wanted = '.'.join(remaining[:length])
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.value == wanted:
                        found, step, remaining = key.start_mark.line + 1, value, remaining[length:]
                        break
                if step is not None:
                    break
        elif isinstance(node, yaml.SequenceNode) and remaining[0].isdigit() and int(remaining[0]) < len(node.value):
            step = node.value[int(remaining[0])]
            found, remaining = step.start_mark.line + 1, remaining[1:]
        node = step
    return found
