"""Errors the command layer raises; shared by ``core.commands.dispatch`` and its per-resource mixins."""

from __future__ import annotations


class CommandError(Exception):
    """A command that cannot be queued; the message is a sentence for the user."""
