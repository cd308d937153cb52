"""Per-browser server-side storage (NiceGUI's ``app.storage.user``), with a browser id that can be replaced.

NiceGUI keys the storage by ``request.session['id']`` (inside the signed session cookie) and never changes that id;
it offers no public way to rotate it. This module is the one place that reaches into ``nicegui/storage.py``: it
makes the new id's storage, and empties and forgets the old one (an empty file-backed storage deletes its file), so
a cookie that carried the old id finds nothing on the server any more.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from nicegui import app
from nicegui.persistence import PersistentDict


def browser_id(request: Request | None) -> str:
    """The browser id the request carries in its session cookie; '' when it has none."""
    if request is None:
        return ''
    try:
        return str(request.session.get('id') or '')
    except AssertionError:  # no session middleware in front of this request
        return ''


def storage_of(request: Request | None) -> PersistentDict | None:
    """The user storage of the request's browser id, or None when that id is unknown (rotated away, never made)."""
    return storage_of_id(browser_id(request))


def storage_of_id(identifier: str) -> PersistentDict | None:
    return app.storage._users.get(identifier) if identifier else None


async def rotate(request: Request, data: dict[str, Any]) -> str:
    """Gives the browser a new id holding ``data`` (set in the response's cookie); the old id's storage is destroyed.

    Returns the new id. Other keys of the session cookie (Authlib's state markers) are kept.
    """
    old_id = browser_id(request)
    new_id = str(uuid.uuid4())
    await app.storage._create_user_storage(new_id)
    app.storage._users[new_id].update(data)
    request.session['id'] = new_id
    old = app.storage._users.pop(old_id, None) if old_id else None
    if old is not None:
        old.clear()  # a file-backed storage removes its file once empty
        await old.close()
    return new_id
