"""Environment variables of a container body, as each role may see them.

Viewers see the names, never the values. Operators and admins see values, except those of names that look secret
(PASSWORD, SECRET, TOKEN, KEY, CREDENTIAL, …) or values that carry a password in a URL: those stay masked until the
person reveals them, and a reveal is audited by the page that offers it. Values of Berth's own containers are never
shown to non-admins (:mod:`core.protection`). One function serves the readable view and the raw JSON.
"""

from __future__ import annotations

import copy
import re
from typing import Any

MASK = '••••••••'
HIDDEN = '(hidden)'
_SECRET_NAME = re.compile(
    r'PASS|PWD|SECRET|TOKEN|KEY|CREDENTIAL|PRIVATE|AUTH|SALT|SIGNATURE|COOKIE|SESSION|DSN'
    r'|CERT|LICENSE',
    re.IGNORECASE,
)
_URL_PASSWORD = re.compile(r'://[^/\s:@]*:[^/\s@]+@')


def looks_secret(name: str, value: str = '') -> bool:
    return bool(_SECRET_NAME.search(name) or _URL_PASSWORD.search(value))


def visible_value(name: str, value: str, *, values: bool, reveal: bool) -> str:
    """What one variable's value shows as: ``values`` False hides every value; secret-looking ones stay masked
    unless ``reveal``."""
    if not values:
        return HIDDEN
    if looks_secret(name, value) and not reveal:
        return MASK
    return value


def redact_pairs(items: list[str], *, values: bool, reveal: bool) -> list[str]:
    """``NAME=value`` items (Docker's ``Config.Env``) with each value as :func:`visible_value` says."""
    shown = []
    for item in items:
        name, separator, value = str(item).partition('=')
        shown.append(f'{name}={visible_value(name, value, values=values, reveal=reveal)}' if separator else name)
    return shown


def redact_inspect(data: dict[str, Any], *, values: bool, reveal: bool) -> dict[str, Any]:
    """A copy of inspect data (container or image) with ``Config.Env`` (and ``ContainerConfig.Env``) redacted."""
    redacted = copy.deepcopy(data)
    for key in ('Config', 'ContainerConfig'):
        config = redacted.get(key)
        if isinstance(config, dict) and isinstance(config.get('Env'), list):
            config['Env'] = redact_pairs(config['Env'], values=values, reveal=reveal)
    return redacted


def has_secrets(items: list[str]) -> bool:
    return any(looks_secret(*str(item).partition('=')[::2]) for item in items)
