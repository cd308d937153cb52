"""A stack's ``.env`` as people see it: values of secret-looking keys masked (the rule of :mod:`core.redaction`)."""

from __future__ import annotations

from core.redaction import MASK, looks_secret


def mask_env(text: str) -> str:
    """``.env`` text with each secret-looking ``KEY=value`` shown as ``KEY=••••••••``; comments, blank lines and
    other values as they are."""
    lines = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip('\r\n')
        ending = line[len(body) :]
        stripped = body.lstrip()
        name, separator, value = stripped.removeprefix('export ').partition('=')
        if separator and not stripped.startswith('#') and value and looks_secret(name.strip(), value):
            body = body[: len(body) - len(value)] + MASK
        lines.append(body + ending)
    return ''.join(lines)


def has_secret_values(text: str) -> bool:
    return mask_env(text) != text
