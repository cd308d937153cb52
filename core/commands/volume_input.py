"""What a new volume may be asked for: a name the engine accepts, a driver, ``key=value`` labels and driver options.

Pure functions, used by the create dialog as the user types, by the command before anything is queued, and by the
actor on what the panel signed. Each problem is a sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import clip
from core.protection import RESERVED_LABEL_PREFIX

# the engine's own rule for local volume names (volume/local: "[a-zA-Z0-9][a-zA-Z0-9_.-]"), at least two characters
VOLUME_NAME = re.compile(r'[a-zA-Z0-9][a-zA-Z0-9_.-]+')
# a driver is 'local' or a plugin reference such as 'vieux/sshfs:latest'
DRIVER_NAME = re.compile(r'[a-zA-Z0-9][a-zA-Z0-9_.:/-]*')
DEFAULT_DRIVER = 'local'


def name_problem(name: str) -> str | None:
    """None when ``name`` is a volume name the engine accepts, else the sentence saying why not."""
    if not name:
        return 'enter a volume name'
    if len(name) < 2:
        return f"volume name '{clip(name)}' is too short: use at least two characters"
    if not VOLUME_NAME.fullmatch(name):
        first = '' if name[0].isascii() and name[0].isalnum() else ', starting with a letter or digit'
        return f"volume name '{clip(name)}' is not valid: use letters, digits and . _ -{first}"
    return None


def driver_problem(driver: str) -> str | None:
    if not DRIVER_NAME.fullmatch(driver):
        return f"driver '{clip(driver)}' is not a valid driver name: use letters, digits and . _ - : /"
    return None


def parse_pairs(text: str | Iterable[str], what: str) -> tuple[dict[str, str], list[str]]:
    """``key=value`` entries (one a line when ``text`` is a string; blank lines skipped) → a dict, and a sentence
    for each bad entry (``what`` names them: 'label', 'driver option')."""
    lines = text.splitlines() if isinstance(text, str) else list(text)
    pairs: dict[str, str] = {}
    problems: list[str] = []
    for line in (str(line).strip() for line in lines):
        if not line:
            continue
        key, equals, value = line.partition('=')
        key = key.strip()
        if not equals:
            problems.append(f"{what} '{clip(line)}' must be written key=value")
        elif not key:
            problems.append(f"{what} '{clip(line)}' has no key before the '='")
        elif any(character.isspace() for character in key):
            problems.append(f"{what} key '{clip(key)}' may not contain spaces")
        elif key in pairs:
            problems.append(f"{what} '{clip(key)}' is given twice")
        else:
            pairs[key] = value.strip()
    return pairs, problems


@dataclass(kw_only=True, slots=True, frozen=True)
class VolumeRequest:
    """A checked request for a new volume; what the create job carries."""

    name: str
    driver: str = DEFAULT_DRIVER
    labels: dict[str, str] = field(default_factory=dict)
    driver_options: dict[str, str] = field(default_factory=dict)

    @property
    def reserved_labels(self) -> list[str]:
        """Berth's own labels (``berth.*``: owner, protected) asked for: an admin's alone."""
        return sorted(key for key in self.labels if key.lower().startswith(RESERVED_LABEL_PREFIX))

    def to_params(self) -> dict[str, Any]:
        return {'driver': self.driver, 'labels': dict(self.labels), 'driver_options': dict(self.driver_options)}

    def audit_summary(self) -> dict[str, Any]:
        """What the audit log keeps: option names, never their values (a mount option may carry a password)."""
        return {'driver': self.driver, 'labels': dict(self.labels), 'driver_options': sorted(self.driver_options)}

    @classmethod
    def from_params(cls, name: str, params: Mapping[str, Any]) -> VolumeRequest:
        """The request a job carries; a ValueError with a sentence when labels or options are not mappings."""
        pairs = {}
        for key, what in (('labels', 'labels'), ('driver_options', 'driver options')):
            value = params.get(key) or {}
            if not isinstance(value, Mapping):
                raise ValueError(f'the volume request is malformed: its {what} are not name=value pairs')
            pairs[key] = {str(name): str(item) for name, item in value.items()}
        return cls(
            name=name,
            driver=str(params.get('driver') or DEFAULT_DRIVER),
            labels=pairs['labels'],
            driver_options=pairs['driver_options'],
        )


def volume_request(
    name: str, driver: str = DEFAULT_DRIVER, labels: str | Iterable[str] = (), driver_options: str | Iterable[str] = ()
) -> tuple[VolumeRequest, list[str]]:
    """The request, and a sentence for each bad input (empty when it may be queued)."""
    name, driver = name.strip(), driver.strip() or DEFAULT_DRIVER
    problems = [problem for problem in (name_problem(name), driver_problem(driver)) if problem]
    label_pairs, label_problems = parse_pairs(labels, 'label')
    option_pairs, option_problems = parse_pairs(driver_options, 'driver option')
    request = VolumeRequest(name=name, driver=driver, labels=label_pairs, driver_options=option_pairs)
    return request, problems + label_problems + option_problems
