"""Wires sign-in into the app: the middleware that sends anonymous requests to /login, the login page, logout."""
from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui
from starlette.middleware.base import BaseHTTPMiddleware

from core.audit import AuditLog

from .accounts import Accounts
from .session import Sessions

PUBLIC_PREFIXES = ('/login', '/healthz', '/_nicegui', '/auth/', '/favicon')


def setup(accounts: Accounts, sessions: Sessions, audit: AuditLog) -> None:
    """Adds the middleware and the /login and /logout routes."""

    class AuthMiddleware(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next):  # type: ignore[no-untyped-def]
            path = request.url.path
            if not path.startswith(PUBLIC_PREFIXES) and not app.storage.user.get('username'):
                return RedirectResponse(f'/login?redirect_to={quote(path)}')
            return await call_next(request)

    app.add_middleware(AuthMiddleware)

    @ui.page('/login', title='Sign in · Berth')
    def login_page(redirect_to: str = '/containers') -> None:
        if not redirect_to.startswith('/') or redirect_to.startswith('//'):
            redirect_to = '/containers'  # never bounce to another site after sign-in
        if sessions.current() is not None:
            ui.navigate.to(redirect_to)
            return

        def try_login() -> None:
            account = accounts.verify(username.value.strip(), password.value)
            address = _address()
            if account is None:
                audit.record(username=username.value.strip()[:100], role='', action='auth.login', target='local',
                             result='refused: wrong username or password', address=address)
                error.text = 'Wrong username or password.'
                error.set_visibility(True)
                password.value = ''
                return
            sessions.sign_in(account.username)
            audit.record(username=account.username, role=account.role, action='auth.login', target='local',
                         result='succeeded', address=address)
            ui.navigate.to(redirect_to)

        ui.dark_mode(None)
        with ui.card().classes('absolute-center w-80 gap-3').props('role=main'):
            ui.label('Berth').classes('text-h5')
            ui.label('Sign in to manage this Docker host').classes('text-caption')
            username = ui.input('Username').props('autofocus autocomplete=username').classes('w-full')
            password = ui.input('Password', password=True, password_toggle_button=True) \
                .props('autocomplete=current-password').classes('w-full').on('keydown.enter', try_login)
            username.on('keydown.enter', lambda: password.run_method('focus'))
            error = ui.label().classes('text-negative').props('role=alert')
            error.set_visibility(False)
            ui.button('Sign in', on_click=try_login).classes('w-full')

    @app.get('/logout')
    def logout() -> RedirectResponse:
        app.storage.user.clear()
        return RedirectResponse('/login')


def _address() -> str:
    request = ui.context.client.request
    return request.client.host if request is not None and request.client is not None else ''
