"""Where a browser may be sent after sign-in: a path of this panel, never another site."""

from __future__ import annotations

from urllib.parse import urlsplit

from core.permissions import Permission, role_allows

DEFAULT_TARGET = '/'  # the dashboard
ENVIRONMENTS = '/environments'


def checked_redirect(target: str | None) -> str:
    """``target`` when it is a plain path of this panel; the dashboard otherwise.

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so '/\\evil.example' and
    '/\\t/evil.example' reach another host: any of them, like a scheme or a host, is refused outright.
    """
    if not target or not target.startswith('/') or target.startswith('//'):
        return DEFAULT_TARGET
    if '\\' in target or any(ord(character) < 32 or ord(character) == 127 for character in target):
        return DEFAULT_TARGET
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return DEFAULT_TARGET
    return target


def landing(target: str, role: str) -> str:
    """Where a browser goes once signed in: ``target``; but the dashboard, the default, is the environments page for a
    role that sees only its own things (a developer)."""
    if target == DEFAULT_TARGET and not role_allows(role, Permission.CONTAINER_READ):
        return ENVIRONMENTS
    return target
