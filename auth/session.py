"""Sessions in NiceGUI's signed user storage; the role is read from the database on every check."""
from __future__ import annotations

import time

from nicegui import app, context

from .accounts import Accounts
from .guard import Identity


class Sessions:
    def __init__(self, accounts: Accounts, *, idle_seconds: float, max_seconds: float) -> None:
        self.accounts = accounts
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds

    def sign_in(self, username: str) -> None:
        now = time.time()
        app.storage.user.update({'username': username, 'login_at': now, 'last_seen': now})

    def sign_out(self) -> None:
        app.storage.user.clear()

    def current(self, *, touch: bool = True) -> Identity | None:
        """The signed-in identity of the current browser, or None (expired, disabled, deleted, signed out)."""
        storage = app.storage.user
        username = storage.get('username')
        if not username:
            return None
        now = time.time()
        if now - storage.get('login_at', 0) > self.max_seconds or now - storage.get('last_seen', 0) > self.idle_seconds:
            storage.clear()
            return None
        account = self.accounts.get(username)
        if account is None or account.disabled:
            storage.clear()
            return None
        if touch and now - storage.get('last_seen', 0) > 30:
            storage['last_seen'] = now
        return Identity(username=account.username, role=account.role, address=_client_address())


def _client_address() -> str:
    try:
        request = context.client.request
    except (RuntimeError, AttributeError):
        return ''
    return request.client.host if request is not None and request.client is not None else ''
