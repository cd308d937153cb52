"""Ties NiceGUI's socket to the panel's own origin and to a live signed-in session.

NiceGUI accepts any origin and routes events by client id alone; here the engine.io transport answers only our
origin, a socket may only speak for the page it shook hands for, and (outside the public sign-in page) only while
its session holds the role the page needs.
"""

from __future__ import annotations

import json
import logging
from base64 import b64decode
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

import itsdangerous
import socketio
from nicegui import Client, core

from .session import Sessions

log = logging.getLogger(__name__)
PUBLIC_PATHS = ('/login',)
ROUTED_EVENTS = ('event', 'javascript_response', 'ack', 'log')
SESSION_EVENTS = ('event', 'javascript_response')  # what a page of an ended session may no longer send


class SocketGuard:
    def __init__(
        self, sessions: Sessions, storage_secret: str, public_url: str | None, session_cookie: str = 'session'
    ) -> None:
        self.sessions = sessions
        self.signer = itsdangerous.TimestampSigner(storage_secret)
        self.public_origin = _origin(public_url) if public_url else None
        self.session_cookie = session_cookie

    def install(self) -> None:
        sio = core.sio
        # engine.io answers CORS for itself (NiceGUI sets '*'): without this, any site's script could read the
        # polling handshake even though the namespace connect below is refused
        sio.eio.cors_allowed_origins = self.cors_origin_allowed
        handlers = sio.handlers['/']
        connect, handshake = handlers['connect'], handlers['handshake']

        async def guarded_connect(sid: str, environ: dict[str, Any], auth: Any = None) -> Any:
            if not self.origin_allowed(environ):
                raise socketio.exceptions.ConnectionRefusedError('origin not allowed')
            query = {key: values[0] for key, values in parse_qs(environ.get('QUERY_STRING', '')).items()}
            if query.get('client_id') and not self.client_allowed(query['client_id'], environ):
                raise socketio.exceptions.ConnectionRefusedError('not signed in')
            return await connect(sid, environ, auth)

        async def guarded_handshake(sid: str, data: dict[str, Any]) -> bool:
            client_id = str(data.get('client_id'))
            if not self.client_allowed(client_id, sio.get_environ(sid)):
                return False
            return bool(await handshake(sid, data))

        sio.on('connect', guarded_connect)
        sio.on('handshake', guarded_handshake)
        for name in ROUTED_EVENTS:
            sio.on(name, self._routed(name, handlers[name]))

    def cors_origin_allowed(self, origin: str | None, environ: dict[str, Any]) -> bool:
        return bool(origin) and self.origin_allowed(environ)

    def origin_allowed(self, environ: dict[str, Any] | None) -> bool:
        if environ is None:
            return True
        origin = environ.get('HTTP_ORIGIN')
        if not origin:
            return True  # not a browser, or a same-origin polling request: the session check below still applies
        if self.public_origin:
            return _origin(origin) == self.public_origin
        host = environ.get('HTTP_HOST', '')
        return urlsplit(origin).netloc == host

    def client_allowed(self, client_id: str, environ: dict[str, Any] | None) -> bool:
        client = Client.instances.get(client_id)
        if client is None or environ is None:  # no environ: not a socket the server accepted
            return False
        page_browser = _page_browser_id(client)
        socket_browser = self._browser_id(environ)
        if page_browser is None or socket_browser != page_browser:
            return False
        return _is_public(client) or self.sessions.page_allowed(client)

    def _routed(self, name: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        sio = core.sio

        def guarded(sid: str, message: dict[str, Any]) -> Any:
            client_id = message.get('client_id') if isinstance(message, dict) else None
            if client_id not in sio.rooms(sid):
                log.warning('dropped a %s message for a client this socket does not belong to', name)
                return None
            client = Client.instances.get(str(client_id))
            if (
                name in SESSION_EVENTS
                and client is not None
                and not _is_public(client)
                and not self.sessions.page_allowed(client)
            ):
                return None
            return handler(sid, message)

        return guarded

    def _browser_id(self, environ: dict[str, Any]) -> str | None:
        cookie = SimpleCookie()
        try:
            cookie.load(environ.get('HTTP_COOKIE', ''))
        except Exception:  # a malformed cookie header is simply no session
            return None
        morsel = cookie.get(self.session_cookie)
        if morsel is None:
            return None
        try:
            data = json.loads(b64decode(self.signer.unsign(morsel.value.encode())))
        except (itsdangerous.BadSignature, ValueError):
            return None
        return str(data.get('id')) if isinstance(data, dict) and data.get('id') else None


def _page_browser_id(client: Client) -> str | None:
    try:
        return str(client.request.session.get('id')) if client.request is not None else None
    except (AssertionError, AttributeError):
        return None


def _is_public(client: Client) -> bool:
    try:
        return client.request is not None and client.request.url.path in PUBLIC_PATHS
    except AttributeError:
        return False


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f'{parts.scheme}://{parts.netloc}'
