"""Wires sign-in into the app: the middleware that sends anonymous requests to /login, the login page, logout."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui
from nicegui.storage import request_contextvar
from starlette.middleware.base import BaseHTTPMiddleware

from core.settings import Settings
from core.storage.audit import AuditLog

from . import browser_storage
from .accounts import Accounts
from .oidc import OidcLogin, login_link
from .rate_limit import LoginRateLimit
from .redirect import DEFAULT_TARGET, checked_redirect, landing
from .session import Sessions
from .socket_guard import SocketGuard

PUBLIC_PREFIXES = ('/login', '/healthz', '/livez', '/_nicegui', '/auth/', '/favicon')


def setup(settings: Settings, accounts: Accounts, sessions: Sessions, audit: AuditLog) -> None:
    """Adds the middleware, the socket guard, OIDC routes (when configured), /login, /auth/complete and /logout."""
    oidc = OidcLogin(settings, accounts, sessions, audit) if settings.oidc_issuer and settings.oidc_client_id else None
    if oidc is not None:
        oidc.register_routes()
    local_login = settings.local_login or oidc is None
    rate_limit = LoginRateLimit()
    SocketGuard(sessions, settings.resolve_storage_secret(), settings.public_url).install()

    class AuthMiddleware(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next):  # type: ignore[no-untyped-def]
            path = request.url.path
            if not path.startswith(PUBLIC_PREFIXES) and sessions.current(touch=False) is None:
                return RedirectResponse(f'/login?redirect_to={quote(path)}')
            return await call_next(request)

    app.add_middleware(AuthMiddleware)

    @ui.page('/login', title='Sign in · Berth')
    def login_page(redirect_to: str = DEFAULT_TARGET) -> None:
        redirect_to = checked_redirect(redirect_to)  # never bounce to another site after sign-in
        identity = sessions.current()
        if identity is not None:
            ui.navigate.to(landing(redirect_to, identity.role))
            return

        async def try_login() -> None:
            name, address = username.value.strip()[:100], _address()
            wait = rate_limit.retry_after(name, address)
            if wait > 0:
                show_error(f'Too many failed sign-ins. Try again in {int(wait // 60) + 1} minutes.')
                return
            secret, password.value = password.value, ''
            account = await accounts.off_loop(accounts.verify, name, secret)  # argon2: tens of ms of CPU, off the loop
            if account is None:
                rate_limit.failed(name, address)
                audit.record(
                    username=name,
                    role='',
                    action='auth.login',
                    target='local',
                    result='refused: wrong username or password',
                    address=address,
                )
                show_error('Wrong username or password.')
                return
            rate_limit.succeeded(name, address)
            ui.navigate.to(f'/auth/complete?token={sessions.issue_sign_in(account.username, redirect_to)}')

        def show_error(text: str) -> None:
            error.text = text
            error.set_visibility(True)

        ui.dark_mode(None)
        with ui.card().classes('absolute-center w-80 gap-3').props('role=main'):
            ui.label('Berth').classes('text-h5')
            ui.label('Sign in to manage this Docker host').classes('text-caption')
            if oidc is not None:
                ui.button(
                    f'Sign in with {settings.oidc_provider_name}',
                    icon='login',
                    on_click=lambda: ui.navigate.to(login_link(redirect_to)),
                ).classes('w-full')
            error = ui.label().classes('text-negative').props('role=alert').mark('sign-in-error')
            error.set_visibility(False)
            if local_login:
                if oidc is not None:
                    ui.separator()
                    ui.label('Local account').classes('text-caption')
                username = ui.input('Username').props('autofocus autocomplete=username').classes('w-full')
                password = (
                    ui.input('Password', password=True, password_toggle_button=True)
                    .props('autocomplete=current-password')
                    .classes('w-full')
                    .on('keydown.enter', try_login)
                )
                username.on('keydown.enter', lambda: password.run_method('focus'))
                ui.button('Sign in', on_click=try_login).classes('w-full')

    @app.get('/auth/complete')
    async def complete_sign_in(request: Request, token: str = '') -> RedirectResponse:
        """Where a local sign-in lands: the session starts here, in a new browser id set by this response."""
        pending = sessions.redeem(request, token)
        account = accounts.cached(pending.username) if pending is not None else None
        if pending is None or account is None or account.disabled:
            return RedirectResponse('/login', status_code=303)
        await sessions.sign_in(request, account.username)
        audit.record(
            username=account.username,
            role=account.role,
            action='auth.login',
            target='local',
            result='succeeded',
            address=request.client.host if request.client else '',
        )
        return RedirectResponse(landing(checked_redirect(pending.redirect_to), account.role), status_code=303)

    @app.get('/logout')
    async def logout(request: Request) -> RedirectResponse:
        identity = sessions.current(touch=False)
        if identity is not None:
            audit.record(
                username=identity.username,
                role=identity.role,
                action='auth.logout',
                target='session',
                result='succeeded',
                address=request.client.host if request.client else '',
            )
        storage = browser_storage.storage_of(request)
        if oidc is not None and storage is not None and storage.get('id_token'):
            return await oidc.logout(request)  # type: ignore[no-any-return]
        await sessions.sign_out(request)
        return RedirectResponse('/login', status_code=303)


def _address() -> str:
    request = request_contextvar.get()
    return request.client.host if request is not None and request.client is not None else ''
