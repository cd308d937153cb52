"""Which manifest a tag names in its registry now: ``HEAD /v2/<repository>/manifests/<tag>`` with the manifest types
Docker pulls (so a multi-platform tag answers with its index's digest, as the engine records it), following the
registry's auth challenge — a Bearer token from its token service, or Basic — with the credentials given.

Every failure is a :class:`RegistryError` whose message is a sentence for the user, never an HTTP library's trace.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from core.docker.reference import ImageReference

# the order says what we prefer; the registry answers with the one it has (the digest is of what it answers)
MANIFEST_TYPES = (
    'application/vnd.oci.image.index.v1+json',
    'application/vnd.docker.distribution.manifest.list.v2+json',
    'application/vnd.docker.distribution.manifest.v2+json',
    'application/vnd.oci.image.manifest.v1+json',
)
ACCEPT = ', '.join(MANIFEST_TYPES)
TIMEOUT_SECONDS = 10.0
DIGEST_HEADER = 'Docker-Content-Digest'
_PARAMETER = re.compile(r'(\w+)="([^"]*)"')


class RegistryError(Exception):
    """The registry could not say which manifest the tag names; the message is a sentence for the user."""


@dataclass(kw_only=True, slots=True, frozen=True)
class Challenge:
    """What a registry's ``WWW-Authenticate`` asks for: ``Bearer realm=…,service=…,scope=…`` or ``Basic realm=…``."""

    scheme: str  # 'bearer' or 'basic' (lowercase)
    realm: str = ''
    service: str = ''
    scope: str = ''

    @classmethod
    def parse(cls, header: str) -> Challenge | None:
        scheme, _, rest = header.strip().partition(' ')
        if not scheme:
            return None
        parameters = dict(_PARAMETER.findall(rest))
        return cls(
            scheme=scheme.lower(),
            realm=parameters.get('realm', ''),
            service=parameters.get('service', ''),
            scope=parameters.get('scope', ''),
        )


class RegistryClient:
    """One HTTP client for the registries of one check: tokens are reused within it (per realm, service and scope).

    ``insecure(host)`` says whether the engine allows plain HTTP to ``host`` (its insecure registries): such a host is
    asked over HTTPS without certificate checks first, then over HTTP — as the engine does. Others: HTTPS only.
    """

    def __init__(
        self,
        *,
        insecure: Callable[[str], bool] = lambda host: False,
        transport: httpx.BaseTransport | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._insecure = insecure
        self._client = httpx.Client(transport=transport, timeout=timeout, follow_redirects=True)
        self._lenient = httpx.Client(transport=transport, timeout=timeout, follow_redirects=True, verify=False)
        self._tokens: dict[tuple[str, str, str, str], str] = {}
        self._schemes: dict[str, str] = {}  # host → the scheme that answered

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()
        self._lenient.close()

    def digest(self, reference: ImageReference, credentials: dict[str, str] | None = None) -> str:
        """The digest (``sha256:…``) of the manifest (or index) ``reference``'s tag names in its registry now."""
        path = f'/v2/{reference.api_repository}/manifests/{reference.tag or "latest"}'
        response = self._authorized('HEAD', reference, path, credentials)
        digest = response.headers.get(DIGEST_HEADER, '')
        if response.status_code == httpx.codes.OK and digest:
            return digest
        if response.status_code == httpx.codes.OK:  # a registry that leaves the header out: hash what it sends
            response = self._authorized('GET', reference, path, credentials)
            if response.status_code == httpx.codes.OK:
                return response.headers.get(DIGEST_HEADER) or f'sha256:{hashlib.sha256(response.content).hexdigest()}'
        raise RegistryError(self._refusal(response, reference, credentials))

    def _authorized(
        self, method: str, reference: ImageReference, path: str, credentials: dict[str, str] | None
    ) -> httpx.Response:
        """The request, and once more with what the registry's challenge asks for when it answers 401."""
        headers = {'Accept': ACCEPT}
        response = self._send(method, reference.api_host, path, headers)
        if response.status_code != httpx.codes.UNAUTHORIZED:
            return response
        challenge = Challenge.parse(response.headers.get('WWW-Authenticate', ''))
        if challenge is None or challenge.scheme not in ('bearer', 'basic'):
            raise RegistryError(
                f'the registry {reference.registry_key} asks for an authentication Berth does not speak '
                f'({response.headers.get("WWW-Authenticate") or "no challenge given"})'
            )
        if challenge.scheme == 'basic':
            if not credentials:
                raise RegistryError(no_credentials(reference))
            headers['Authorization'] = basic_authorization(credentials)
        else:
            scope = challenge.scope or f'repository:{reference.api_repository}:pull'
            headers['Authorization'] = f'Bearer {self._token(challenge, scope, reference, credentials)}'
        return self._send(method, reference.api_host, path, headers)

    def _token(
        self, challenge: Challenge, scope: str, reference: ImageReference, credentials: dict[str, str] | None
    ) -> str:
        username = (credentials or {}).get('username', '')
        key = (challenge.realm, challenge.service, scope, username)
        if key in self._tokens:
            return self._tokens[key]
        if not challenge.realm.startswith(('https://', 'http://')):
            raise RegistryError(f'the registry {reference.registry_key} names no token service to sign in at')
        params = {'scope': scope, **({'service': challenge.service} if challenge.service else {})}
        auth = httpx.BasicAuth(username, credentials.get('password', '')) if credentials else None
        try:
            response = self._client.get(challenge.realm, params=params, auth=auth)
        except httpx.HTTPError as error:
            raise RegistryError(
                f'the token service of {reference.registry_key} could not be reached: {describe(error)}'
            ) from None
        if response.status_code in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
            raise RegistryError(refused(reference, credentials))
        if response.status_code != httpx.codes.OK:
            raise RegistryError(
                f'the token service of {reference.registry_key} answered {response.status_code} '
                f'{response.reason_phrase}'
            )
        try:
            answer = response.json()
            token = str(answer.get('token') or answer.get('access_token') or '')
        except (ValueError, AttributeError):
            token = ''
        if not token:
            raise RegistryError(f'the token service of {reference.registry_key} sent no token')
        self._tokens[key] = token
        return token

    def _send(self, method: str, host: str, path: str, headers: dict[str, str]) -> httpx.Response:
        schemes = [self._schemes[host]] if host in self._schemes else ['https']
        if host not in self._schemes and self._insecure(host):
            schemes.append('http')
        error: httpx.HTTPError | None = None
        for scheme in schemes:
            client = self._lenient if scheme == 'https' and self._insecure(host) else self._client
            try:
                response = client.request(method, f'{scheme}://{host}{path}', headers=headers)
            except httpx.TransportError as failure:  # refused, TLS spoken to a plain-HTTP server, timed out…
                error = failure
                continue
            self._schemes[host] = scheme
            return response
        assert error is not None
        raise RegistryError(f'the registry {host} could not be reached: {describe(error)}')

    def _refusal(self, response: httpx.Response, reference: ImageReference, credentials: dict[str, str] | None) -> str:
        status = response.status_code
        if status == httpx.codes.UNAUTHORIZED:
            return refused(reference, credentials) if credentials else no_credentials(reference)
        if status == httpx.codes.FORBIDDEN:
            return f'the registry {reference.registry_key} denies access to {reference.api_repository}'
        if status == httpx.codes.NOT_FOUND:
            tag = reference.tag or 'latest'
            return f'the registry {reference.registry_key} has no {reference.api_repository}:{tag}'
        if status == httpx.codes.TOO_MANY_REQUESTS:
            return f'the registry {reference.registry_key} is limiting requests (429); the next check asks again'
        if status == httpx.codes.OK:
            return f'the registry {reference.registry_key} sent no manifest digest'
        return f'the registry {reference.registry_key} answered {status} {response.reason_phrase}'.rstrip()


def no_credentials(reference: ImageReference) -> str:
    return (
        f'the registry {reference.registry_key} wants a username and password, and none are saved for it '
        '(pull once with "Save for this registry")'
    )


def refused(reference: ImageReference, credentials: dict[str, str] | None) -> str:
    if not credentials:
        return f'the registry {reference.registry_key} refused to answer without credentials'
    return f'the registry {reference.registry_key} refused the saved credentials of {credentials.get("username", "")}'


def basic_authorization(credentials: dict[str, str]) -> str:
    pair = f'{credentials.get("username", "")}:{credentials.get("password", "")}'
    return f'Basic {base64.b64encode(pair.encode()).decode()}'


def describe(error: httpx.HTTPError) -> str:
    """An httpx error as a short phrase ('timed out', the socket's own words)."""
    if isinstance(error, httpx.TimeoutException):
        return 'no answer in time'
    text = str(error).strip()
    return text or type(error).__name__


def insecure_registries(registry_config: dict[str, Any]) -> Callable[[str], bool]:
    """From the engine's ``/info`` ``RegistryConfig``: whether the engine allows plain HTTP to a registry host — one
    of its insecure registries by name, or an address in its insecure ranges (127.0.0.0/8 by default)."""
    networks = []
    for cidr in registry_config.get('InsecureRegistryCIDRs') or []:
        try:
            networks.append(ipaddress.ip_network(str(cidr), strict=False))
        except ValueError:
            continue
    index = registry_config.get('IndexConfigs') or {}

    def insecure(host: str) -> bool:
        entry = index.get(host)
        if isinstance(entry, dict) and 'Secure' in entry:
            return not entry['Secure']
        return any(address in network for address in _addresses(host) for network in networks)

    return insecure


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    name = host[1 : host.index(']')] if host.startswith('[') and ']' in host else host.rsplit(':', 1)[0]
    try:
        return [ipaddress.ip_address(name)]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return []
    return [ipaddress.ip_address(str(entry[4][0]).split('%', 1)[0]) for entry in found]
