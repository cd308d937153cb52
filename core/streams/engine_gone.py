"""What a stream (terminal, log view) says when its Docker engine went away under it, and how it tells."""

from __future__ import annotations

import requests

ENGINE_GONE = 'the Docker engine went away'


def is_engine_gone(error: BaseException) -> bool:
    """The engine cannot be reached (socket refused or missing, connection dropped), as opposed to an answer."""
    return isinstance(error, (requests.exceptions.ConnectionError, ConnectionError, FileNotFoundError))
