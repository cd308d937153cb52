"""Sessions in NiceGUI's server-side user storage; the role is read from the database on every check.

A session starts and ends in a new browser id (see ``browser_storage``): a cookie planted before sign-in or copied
before sign-out is never signed in.
"""
from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from nicegui import Client, ui
from nicegui.persistence import PersistentDict
from nicegui.storage import request_contextvar

from . import browser_storage
from .accounts import Accounts
from .guard import Identity
from .redirect import checked_redirect

SIGN_IN_TOKEN_SECONDS = 30.0


@dataclass(kw_only=True, slots=True)
class OpenPage:
    username: str
    browser_id: str


@dataclass(kw_only=True, slots=True, frozen=True)
class PendingSignIn:
    username: str
    browser_id: str
    redirect_to: str
    expires: float


class Sessions:
    """Who is signed in, in which browser, with which open pages."""

    def __init__(self, accounts: Accounts, *, idle_seconds: float, max_seconds: float) -> None:
        self.accounts = accounts
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds
        self.pages: dict[str, OpenPage] = {}
        self._pending: dict[str, PendingSignIn] = {}

    def issue_sign_in(self, username: str, redirect_to: str) -> str:
        """A single-use token for /auth/complete, for this browser only, valid for a few seconds.

        Local sign-in runs over the page's socket, which cannot set a cookie: the new session starts in the HTTP
        request that redeems the token."""
        now = time.monotonic()
        self._pending = {token: pending for token, pending in self._pending.items() if pending.expires > now}
        token = secrets.token_urlsafe(32)
        self._pending[token] = PendingSignIn(username=username, redirect_to=checked_redirect(redirect_to),
                                             browser_id=browser_storage.browser_id(request_contextvar.get()),
                                             expires=now + SIGN_IN_TOKEN_SECONDS)
        return token

    def redeem(self, request: Request, token: str) -> PendingSignIn | None:
        """The pending sign-in of ``token`` if it is live and was issued to this browser; the token is used up."""
        pending = self._pending.pop(token, None)
        if pending is None or pending.expires < time.monotonic():
            return None
        if not pending.browser_id or pending.browser_id != browser_storage.browser_id(request):
            return None
        return pending

    async def sign_in(self, request: Request, username: str, *, id_token: str = '') -> None:
        """Starts a session for ``username`` in a new browser id; the old id is emptied on the server."""
        now = time.time()
        await browser_storage.rotate(request, {'username': username, 'login_at': now, 'last_seen': now,
                                               'id_token': id_token})

    async def sign_out(self, request: Request) -> None:
        """Ends this browser's session (its id is replaced by an empty one) and closes its open pages."""
        old_id = browser_storage.browser_id(request)
        await browser_storage.rotate(request, {})
        self.close_pages(lambda page: page.browser_id == old_id)

    def current(self, *, touch: bool = True) -> Identity | None:
        """The signed-in identity of the current request or page, or None (expired, disabled, signed out)."""
        return self.identity_of(request_contextvar.get(), touch=touch)

    def identity_of(self, request: Request | None, *, touch: bool = False) -> Identity | None:
        storage = browser_storage.storage_of(request)
        if storage is None or not storage.get('username'):
            return None
        now = time.time()
        account = None if self._expired(storage, now) else self.accounts.get(storage['username'])
        if account is None or account.disabled:
            storage.clear()
            return None
        if touch and now - storage.get('last_seen', 0) > 30:
            storage['last_seen'] = now
        return Identity(username=account.username, role=account.role, address=_client_address(request))

    def client_is_signed_in(self, client: Client) -> bool:
        """For the socket guard: does the session this page was opened in still hold a live sign-in?"""
        return self.identity_of(_request_of(client)) is not None

    def attach(self, identity: Identity) -> None:
        """Remembers the current page so that sign-out, disabling or a role change can close it."""
        client = ui.context.client
        self.pages[client.id] = OpenPage(username=identity.username,
                                         browser_id=browser_storage.browser_id(_request_of(client)))
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

    def _expired(self, storage: PersistentDict | dict[str, Any], now: float) -> bool:
        return (now - storage.get('login_at', 0) > self.max_seconds
                or now - storage.get('last_seen', 0) > self.idle_seconds)


def _request_of(client: Client) -> Request | None:
    try:
        return client.request
    except RuntimeError:  # a client made outside a request (NiceGUI's auto-index page)
        return None


def _client_address(request: Request | None) -> str:
    return request.client.host if request is not None and request.client is not None else ''
