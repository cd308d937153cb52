"""Sessions in NiceGUI's server-side user storage; every check (each request, socket event, keystroke) reads the
account from memory (``Accounts.cached``), never the database: a change made through the panel is there at once, one
made outside it is brought in by the sweep every few seconds, which reads all accounts off the loop.

A session starts and ends in a new browser id (see ``browser_storage``): a cookie planted before sign-in or copied
before sign-out is never signed in. Every open page records the role it needs; when its session ends or loses that
role, the page is sent to /login and its elements are removed on the server, which ends every stream bound to it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from nicegui import Client, background_tasks, run, ui
from nicegui.persistence import PersistentDict
from nicegui.storage import request_contextvar

from core.endpoint_roles import EndpointRoles, RoleResolver
from core.permissions import Identity, Permission
from core.storage.errors import DatabaseUnreachable

from . import browser_storage
from .accounts import Account, Accounts
from .redirect import checked_redirect

log = logging.getLogger(__name__)
SIGN_IN_TOKEN_SECONDS = 30.0
SWEEP_SECONDS = 3.0
CLOSE_GRACE_SECONDS = 1.0  # a closed page lives this long without elements, so the navigation to /login goes out


@dataclass(kw_only=True, slots=True)
class OpenPage:
    username: str
    browser_id: str
    permission: Permission  # what the page shows needs this; losing it closes the page
    own: bool = False  # the page needs the permission only on the user's own resources (it shows only those)
    leaving: bool = False  # the tab is on its way to /logout by itself: no navigation to send

    def allows(self, identity: Identity) -> bool:
        return identity.holds(self.permission) if self.own else identity.can(self.permission)


@dataclass(kw_only=True, slots=True, frozen=True)
class PendingSignIn:
    username: str
    browser_id: str
    redirect_to: str
    expires: float


class Sessions:
    """Who is signed in, in which browser, with which open pages."""

    def __init__(
        self,
        accounts: Accounts,
        *,
        idle_seconds: float,
        max_seconds: float,
        endpoint_roles: RoleResolver | None = None,
    ) -> None:
        self.accounts = accounts
        # per-host roles (BERTH_OIDC_ENDPOINT_ROLES and the admin page's), resolved at every check
        self.endpoint_roles: RoleResolver = endpoint_roles or EndpointRoles()
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
        self._pending[token] = PendingSignIn(
            username=username,
            redirect_to=checked_redirect(redirect_to),
            browser_id=browser_storage.browser_id(request_contextvar.get()),
            expires=now + SIGN_IN_TOKEN_SECONDS,
        )
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
        await browser_storage.rotate(
            request, {'username': username, 'login_at': now, 'last_seen': now, 'id_token': id_token}
        )

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
        account = None if self._expired(storage, now) else self.accounts.cached(storage['username'])
        if account is None or account.disabled:
            storage.clear()
            return None
        if touch and now - storage.get('last_seen', 0) > 30:
            storage['last_seen'] = now
        return self.identity_of_account(account, _client_address(request))

    def identity_of_account(self, account: Account, address: str = '') -> Identity:
        """The account as an identity: its role, groups, and the roles it has on particular hosts."""
        return Identity(
            username=account.username,
            role=account.role,
            address=address,
            subject=account.owner_id,
            groups=account.groups,
            endpoint_roles=self.endpoint_roles.resolve(account.username, account.role, account.groups),
        )

    def page_allowed(self, client: Client) -> bool:
        """For the socket guard: does the session this page was opened in still hold the role the page needs?"""
        page = self.pages.get(client.id)
        identity = self.identity_of(_request_of(client))
        if identity is None:
            return False
        return page.allows(identity) if page is not None else identity.can(Permission.CONTAINER_READ)

    def attach(self, identity: Identity, permission: Permission, *, own: bool = False) -> None:
        """Remembers the current page and the permission it needs, so that losing it closes the page."""
        client = ui.context.client
        self.pages[client.id] = OpenPage(
            username=identity.username,
            permission=permission,
            own=own,
            browser_id=browser_storage.browser_id(_request_of(client)),
        )
        client.on_delete(lambda: self.pages.pop(client.id, None))

    def identity_of_page(self, client_id: str) -> Identity | None:
        """Who an open page belongs to, from the account cache (no request needed): for pushing to pages, such as
        job notifications, only what their user may see."""
        page = self.pages.get(client_id)
        account = self.accounts.cached(page.username) if page is not None else None
        if account is None or account.disabled:
            return None
        return self.identity_of_account(account)

    def leave(self, client_id: str) -> None:
        """Marks a page that is navigating to /logout by itself."""
        if client_id in self.pages:
            self.pages[client_id].leaving = True

    def close_pages(self, predicate: Callable[[OpenPage], bool]) -> int:
        """Sends matching open pages to the sign-in page and removes their elements now; returns how many.

        Removing the elements ends what they hold (terminal sessions, log streams, timers) whether or not the browser
        follows the navigation; the emptied client is deleted a moment later."""
        closed = 0
        for client_id, page in list(self.pages.items()):
            if not predicate(page):
                continue
            self.pages.pop(client_id, None)
            client = Client.instances.get(client_id)
            if client is None or client.is_deleted:
                continue
            if not page.leaving:
                client.open('/login')
            client.remove_all_elements()
            background_tasks.create(_delete_later(client), name='delete a closed page')
            closed += 1
        return closed

    def close_pages_of(self, username: str) -> int:
        return self.close_pages(lambda page: page.username == username)

    async def sweep(self) -> None:
        """Every few seconds: brings the accounts the checks use up to date with the database (a change made outside
        this panel: another instance, the database directly), and closes the pages whose session expired or lost the
        page's role."""
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await self.sweep_once()
            except DatabaseUnreachable as error:  # a restart, a full disk: the next sweep tries again
                log.warning('could not check the open pages against their sessions: %s', error)
            except Exception:  # any other hiccup must not end the sweeping for good
                log.exception('could not check the open pages against their sessions')

    async def sweep_once(self) -> int:
        listed = await run.io_bound(self.accounts.refresh)
        if listed is None:  # the app is stopping
            return 0
        await run.io_bound(self.endpoint_roles.refresh)  # per-host roles another panel may have changed
        accounts = {account.username: account for account in listed}
        now = time.time()
        return self.close_pages(lambda page: not self._still_holds(page, accounts, now))

    def _still_holds(self, page: OpenPage, accounts: dict[str, Account], now: float) -> bool:
        storage = browser_storage.storage_of_id(page.browser_id)
        account = accounts.get(page.username)
        if storage is None or storage.get('username') != page.username or self._expired(storage, now):
            return False
        return account is not None and not account.disabled and page.allows(self.identity_of_account(account))

    def _expired(self, storage: PersistentDict | dict[str, Any], now: float) -> bool:
        return (
            now - storage.get('login_at', 0) > self.max_seconds or now - storage.get('last_seen', 0) > self.idle_seconds
        )


async def _delete_later(client: Client) -> None:
    await asyncio.sleep(CLOSE_GRACE_SECONDS)
    # a page whose browser went (to /login, as told) is deleted by NiceGUI itself after its reconnect timeout, and
    # deleting it here as well makes that delete fail; only a page still connected (a browser ignoring the
    # navigation) is deleted here
    if not client.is_deleted and Client.instances.get(client.id) is client and client.has_socket_connection:
        client.delete()


def _request_of(client: Client) -> Request | None:
    try:
        return client.request
    except RuntimeError:  # a client made outside a request (NiceGUI's auto-index page)
        return None


def _client_address(request: Request | None) -> str:
    return request.client.host if request is not None and request.client is not None else ''
