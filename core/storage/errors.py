"""What a caller of the database is told when the database cannot be reached (a restart, a full disk, a network cut)."""

from __future__ import annotations


class DatabaseUnreachable(RuntimeError):
    """The database could not be reached for this statement (the backend's ``unreachable``); the same statement may
    work later. Its message is a sentence: 'the database cannot be reached (…)'."""

    def __init__(self, reason: str) -> None:
        super().__init__(f'the database cannot be reached ({reason})')
        self.reason = reason


def first_line(error: BaseException) -> str:
    """The first line of an error's text (a driver's message can run to several), or its type's name."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
