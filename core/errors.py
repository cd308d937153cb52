"""Errors the command layer raises; shared by ``core.commands.dispatch`` and its per-resource mixins."""

from __future__ import annotations


class CommandError(Exception):
    """A command that cannot be queued; the message is a sentence for the user."""


CLIP = 100  # characters of someone's input repeated in a sentence about it


def clip(value: object, limit: int = CLIP) -> str:
    """``value`` (its text) as a sentence repeats it: whole when short, else its start and how much more there was (a
    sentence about a megabyte of input is not a megabyte long)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return text
    return f'{text[:limit]}… ({len(text) - limit} more characters)'
