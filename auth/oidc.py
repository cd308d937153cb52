"""OpenID Connect sign-in with Authlib's Starlette client: discovery, code + PKCE S256, iss/aud/nonce checked."""

from __future__ import annotations

import asyncio
import logging
import time
from html import escape
from typing import Any
from urllib.parse import quote

from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from nicegui import app

from core.settings import Settings
from core.storage.audit import AuditLog

from . import browser_storage
from .accounts import Accounts
from .redirect import checked_redirect, landing
from .session import Sessions

log = logging.getLogger(__name__)
PROVIDER = 'sso'


class StateCache:
    """Server-side store for Authlib's state data (PKCE verifier, nonce): nothing of it lives in the cookie."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[float, str]] = {}

    async def get(self, key: str) -> str | None:
        expires, value = self._values.get(key, (0.0, ''))
        return value if expires > time.time() else None

    async def set(self, key: str, value: str, expires: int | None = None) -> None:
        now = time.time()
        self._values = {k: v for k, v in self._values.items() if v[0] > now}
        self._values[key] = (now + (expires or 600), value)

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)


def groups_of(settings: Settings, claims: dict[str, Any]) -> set[str]:
    """The groups the roles claim (default ``groups``) names: one string or a list."""
    value = claims.get(settings.oidc_roles_claim) or []
    return {value} if isinstance(value, str) else {str(group) for group in value}


def role_for(settings: Settings, claims: dict[str, Any]) -> str | None:
    """Maps the roles claim (default ``groups``) to the highest matching role, or the default role, or None."""
    groups = groups_of(settings, claims)
    for role, configured in (
        ('admin', settings.oidc_admin_groups),
        ('operator', settings.oidc_operator_groups),
        ('developer', settings.oidc_developer_groups),
        ('viewer', settings.oidc_viewer_groups),
    ):
        if groups & {group.strip() for group in configured.split(',') if group.strip()}:
            return role
    return settings.oidc_default_role or None


class OidcLogin:
    """Registers /auth/login, /auth/callback and /auth/logout for one provider."""

    def __init__(self, settings: Settings, accounts: Accounts, sessions: Sessions, audit: AuditLog) -> None:
        assert settings.oidc_issuer and settings.oidc_client_id
        self.settings = settings
        self.accounts = accounts
        self.sessions = sessions
        self.audit = audit
        self.issuer = settings.oidc_issuer.rstrip('/')
        self.public_url = (settings.public_url or f'http://{settings.host}:{settings.port}').rstrip('/')
        self.redirect_uri = f'{self.public_url}/auth/callback'
        self.oauth = OAuth(cache=StateCache())
        self.oauth.register(
            PROVIDER,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            server_metadata_url=f'{self.issuer}/.well-known/openid-configuration',
            client_kwargs={'scope': settings.oidc_scopes, 'code_challenge_method': 'S256'},
        )
        self.client = self.oauth.create_client(PROVIDER)
        # Authlib checks `aud` only when told; naming claims drops its default `iss` check, so both are here
        self.claims_options = {
            'iss': {'essential': True, 'values': [self.issuer]},
            'aud': {'essential': True, 'values': [settings.oidc_client_id]},
        }

    def register_routes(self) -> None:
        app.add_api_route('/auth/login', self.login, methods=['GET'])
        app.add_api_route('/auth/callback', self.callback, methods=['GET'])

    async def login(self, request: Request, redirect_to: str = '') -> Any:
        storage = browser_storage.storage_of(request)
        if storage is not None:
            storage['redirect_to'] = checked_redirect(redirect_to)
        try:
            return await self.client.authorize_redirect(request, self.redirect_uri)
        except Exception as error:  # provider down or misconfigured: a page, not a traceback
            log.warning('OIDC login could not start: %s', error)
            name = self.settings.oidc_provider_name
            return error_page(
                f'{name} cannot be reached right now ({type(error).__name__}). '
                'Try again in a moment, or use a local account.',
                503,
            )

    async def callback(self, request: Request) -> Any:
        address = request.client.host if request.client else ''
        try:
            token = await self.client.authorize_access_token(request, claims_options=self.claims_options)
        except OAuthError as error:
            self.audit.record(
                username='(unknown)',
                role='',
                action='auth.login',
                target='oidc',
                result=f'refused: {error.error}',
                address=address,
            )
            return error_page(f'Sign-in failed: {error.description or error.error}.', 400)
        except Exception as error:  # bad signature, wrong audience, provider unreachable
            self.audit.record(
                username='(unknown)',
                role='',
                action='auth.login',
                target='oidc',
                result=f'refused: {type(error).__name__}: {error}'[:300],
                address=address,
            )
            return error_page(f"Sign-in failed: the identity provider's answer was not accepted ({error}).", 400)
        claims = dict(token.get('userinfo') or {})
        if not claims.get('sub'):
            return error_page('Sign-in failed: the identity provider sent no verified identity.', 400)
        username = str(claims.get('preferred_username') or claims.get('email') or claims['sub'])
        role = role_for(self.settings, claims)
        if role is None:
            self.audit.record(
                username=username,
                role='',
                action='auth.login',
                target='oidc',
                result='refused: no Berth role for these groups',
                address=address,
            )
            return error_page(
                f'{username} is signed in at {self.settings.oidc_provider_name}, but is in none of the '
                'groups that may use Berth. Ask an administrator for access.',
                403,
            )
        subject = f'{claims.get("iss") or self.settings.oidc_issuer}|{claims["sub"]}'
        groups = tuple(groups_of(self.settings, claims))
        refusal = await asyncio.to_thread(
            self.accounts.upsert_external, username, role, source='oidc', subject=subject, groups=groups
        )
        if refusal:
            self.audit.record(
                username=username,
                role=role,
                action='auth.login',
                target='oidc',
                result=f'refused: {refusal}',
                address=address,
            )
            return error_page(f'{refusal[:1].upper()}{refusal[1:]}.', 403)
        storage = browser_storage.storage_of(request)
        redirect_to = landing(checked_redirect(storage.get('redirect_to') if storage is not None else None), role)
        await self.sessions.sign_in(request, username, id_token=str(token.get('id_token') or ''))
        self.audit.record(
            username=username, role=role, action='auth.login', target='oidc', result='succeeded', address=address
        )
        return RedirectResponse(redirect_to, status_code=302)

    async def logout(self, request: Request) -> Any:
        storage = browser_storage.storage_of(request)
        id_token = storage.get('id_token', '') if storage is not None else ''
        await self.sessions.sign_out(request)
        metadata = await self.client.load_server_metadata()
        if not metadata.get('end_session_endpoint'):
            return RedirectResponse('/login', status_code=302)
        return await self.client.logout_redirect(
            request, post_logout_redirect_uri=f'{self.public_url}/login', id_token_hint=id_token or None
        )


def error_page(sentence: str, status: int) -> HTMLResponse:

    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Berth · sign-in</title></head>'
        f'<body style="font-family:sans-serif;max-width:40rem;margin:4rem auto"><h1>Berth</h1>'
        f'<p role="alert">{escape(sentence)}</p><p><a href="/login">Back to sign-in</a></p></body></html>'
    )
    return HTMLResponse(body, status_code=status)


def login_link(redirect_to: str) -> str:
    return f'/auth/login?redirect_to={quote(redirect_to)}'
