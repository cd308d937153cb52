"""Sessions in NiceGUI's signed user storage; the role is read from the database on every check."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from nicegui import Client, app, context, ui
from nicegui import storage as nicegui_storage

from .accounts import Accounts
from .guard import Identity


@dataclass(kw_only=True, slots=True)
class OpenPage:
    username: str
    browser_id: str


class Sessions:
    """Who is signed in, in which browser, with which open pages."""

    def __init__(self, accounts: Accounts, *, idle_seconds: float, max_seconds: float) -> None:
        self.accounts = accounts
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds
        self.pages: dict[str, OpenPage] = {}

    def sign_in(self, username: str, *, id_token: str = '') -> None:
        now = time.time()
        app.storage.user.clear()
        app.storage.user.update({'username': username, 'login_at': now, 'last_seen': now, 'id_token': id_token})

    def sign_out(self) -> None:
        """Ends this browser's session and closes its other open pages."""
        browser_id = app.storage.browser.get('id', '')
        app.storage.user.clear()
        self.close_pages(lambda page: page.browser_id == browser_id)

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

    def client_is_signed_in(self, client: Client) -> bool:
        """For the socket guard: does the session this page was opened in still hold a live sign-in?"""
        nicegui_storage.request_contextvar.set(client.request)
        return self.current(touch=False) is not None

    def attach(self, identity: Identity) -> None:
        """Remembers the current page so that sign-out, disabling or a role change can close it."""
        client = ui.context.client
        self.pages[client.id] = OpenPage(username=identity.username, browser_id=app.storage.browser.get('id', ''))
        client.on_delete(lambda: self.pages.pop(client.id, None))

    def close_pages(self, predicate: Callable[[OpenPage], bool]) -> int:
        """Sends matching open pages to the sign-in page; returns how many."""
        closed = 0
        for client_id, page in list(self.pages.items()):
            client = Client.instances.get(client_id)
            if client is None or not predicate(page):
                continue
            with client:
                ui.navigate.to('/login')
            self.pages.pop(client_id, None)
            closed += 1
        return closed

    def close_pages_of(self, username: str) -> int:
        return self.close_pages(lambda page: page.username == username)


def _client_address() -> str:
    try:
        request = context.client.request
    except (RuntimeError, AttributeError):
        return ''
    return request.client.host if request is not None and request.client is not None else ''
