"""Asking a registry for a tag's digest (core/updates/registry.py) against httpx's MockTransport: the manifest types
sent, Docker Hub's names, the Bearer and Basic challenges, plain HTTP only for insecure registries, sentences for
every failure."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import httpx
import pytest

from core.docker.reference import parse_reference
from core.updates.registry import MANIFEST_TYPES, RegistryClient, RegistryError, insecure_registries

DIGEST = 'sha256:' + 'a' * 64
Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, *, insecure: Callable[[str], bool] = lambda host: False) -> RegistryClient:
    return RegistryClient(transport=httpx.MockTransport(handler), insecure=insecure)


def test_head_asks_for_manifest_lists_oci_indexes_and_single_manifests_by_docker_hubs_api_names() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={'Docker-Content-Digest': DIGEST})

    with client(handler) as registry:
        assert registry.digest(parse_reference('busybox')) == DIGEST
    (request,) = seen
    assert request.method == 'HEAD'
    assert str(request.url) == 'https://registry-1.docker.io/v2/library/busybox/manifests/latest'
    accepted = [part.strip() for part in request.headers['Accept'].split(',')]
    assert (
        set(accepted)
        == set(MANIFEST_TYPES)
        == {
            'application/vnd.docker.distribution.manifest.v2+json',
            'application/vnd.docker.distribution.manifest.list.v2+json',
            'application/vnd.oci.image.manifest.v1+json',
            'application/vnd.oci.image.index.v1+json',
        }
    )


@pytest.mark.parametrize(
    ('text', 'url'),
    [
        ('docker.io/library/redis:7', 'https://registry-1.docker.io/v2/library/redis/manifests/7'),
        ('grafana/grafana:11.0.0', 'https://registry-1.docker.io/v2/grafana/grafana/manifests/11.0.0'),
        ('ghcr.io/team/app:2', 'https://ghcr.io/v2/team/app/manifests/2'),
        ('registry.example.com:5443/a/b/c', 'https://registry.example.com:5443/v2/a/b/c/manifests/latest'),
    ],
)
def test_where_each_reference_is_asked(text: str, url: str) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, headers={'Docker-Content-Digest': DIGEST})

    with client(handler) as registry:
        registry.digest(parse_reference(text))
    assert seen == [url]


def test_bearer_challenge_gets_a_token_with_the_saved_credentials_and_reuses_it() -> None:
    token_requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == 'auth.example.com':
            token_requests.append(request)
            return httpx.Response(200, json={'token': 'the-token'})
        if request.headers.get('Authorization') != 'Bearer the-token':
            return httpx.Response(
                401,
                headers={
                    'WWW-Authenticate': 'Bearer realm="https://auth.example.com/token",service="reg.example.com",'
                    'scope="repository:team/app:pull"'
                },
            )
        return httpx.Response(200, headers={'Docker-Content-Digest': DIGEST})

    credentials = {'username': 'puller', 'password': 's3cret'}
    with client(handler) as registry:
        assert registry.digest(parse_reference('reg.example.com/team/app:1'), credentials) == DIGEST
        assert registry.digest(parse_reference('reg.example.com/team/app:2'), credentials) == DIGEST
    (token,) = token_requests  # the second check reused it (same realm, service and scope)
    assert token.url.params['service'] == 'reg.example.com'
    assert token.url.params['scope'] == 'repository:team/app:pull'
    assert token.headers['Authorization'] == 'Basic ' + base64.b64encode(b'puller:s3cret').decode()


def test_bearer_challenge_without_credentials_asks_for_an_anonymous_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == '/token':
            assert 'Authorization' not in request.headers
            return httpx.Response(200, json={'access_token': 'anonymous'})
        if request.headers.get('Authorization') == 'Bearer anonymous':
            return httpx.Response(200, headers={'Docker-Content-Digest': DIGEST})
        return httpx.Response(401, headers={'WWW-Authenticate': 'Bearer realm="https://auth.docker.io/token"'})

    with client(handler) as registry:
        assert registry.digest(parse_reference('busybox:1.36')) == DIGEST


def test_basic_challenge_sends_the_credentials_and_says_when_none_are_saved() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get('Authorization') == 'Basic ' + base64.b64encode(b'puller:pw').decode():
            return httpx.Response(200, headers={'Docker-Content-Digest': DIGEST})
        return httpx.Response(401, headers={'WWW-Authenticate': 'Basic realm="berth-test"'})

    reference = parse_reference('reg.example.com/team/app:1')
    with client(handler) as registry:
        assert registry.digest(reference, {'username': 'puller', 'password': 'pw'}) == DIGEST
        with pytest.raises(RegistryError, match='wants a username and password, and none are saved for it'):
            registry.digest(reference)
        with pytest.raises(RegistryError, match='refused the saved credentials of puller'):
            registry.digest(reference, {'username': 'puller', 'password': 'wrong'})


@pytest.mark.parametrize(
    ('status', 'sentence'),
    [
        (404, 'the registry reg.example.com has no team/app:1'),
        (403, 'the registry reg.example.com denies access to team/app'),
        (429, 'the registry reg.example.com is limiting requests (429); the next check asks again'),
        (500, 'the registry reg.example.com answered 500 Internal Server Error'),
    ],
)
def test_a_refusal_is_a_sentence(status: int, sentence: str) -> None:
    with client(lambda request: httpx.Response(status)) as registry, pytest.raises(RegistryError) as raised:
        registry.digest(parse_reference('reg.example.com/team/app:1'))
    assert str(raised.value) == sentence


def test_an_unreachable_registry_is_a_sentence() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError('[Errno 111] Connection refused', request=request)

    with client(handler) as registry, pytest.raises(RegistryError) as raised:
        registry.digest(parse_reference('reg.example.com/team/app:1'))
    assert str(raised.value) == 'the registry reg.example.com could not be reached: [Errno 111] Connection refused'


def test_plain_http_only_for_a_registry_the_engine_calls_insecure() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.scheme == 'https':  # TLS to a plain-HTTP server
            raise httpx.ConnectError('wrong version number', request=request)
        return httpx.Response(200, headers={'Docker-Content-Digest': DIGEST})

    local = parse_reference('127.0.0.1:5000/team/app:1')
    with client(handler, insecure=lambda host: host == '127.0.0.1:5000') as registry:
        assert registry.digest(local) == DIGEST
        assert registry.digest(local) == DIGEST  # the scheme that answered is remembered
    assert seen == [
        'https://127.0.0.1:5000/v2/team/app/manifests/1',
        'http://127.0.0.1:5000/v2/team/app/manifests/1',
        'http://127.0.0.1:5000/v2/team/app/manifests/1',
    ]
    seen.clear()
    with client(handler) as registry, pytest.raises(RegistryError, match='could not be reached: wrong version'):
        registry.digest(local)
    assert seen == ['https://127.0.0.1:5000/v2/team/app/manifests/1']


def test_a_registry_without_the_digest_header_is_asked_for_the_manifest_itself() -> None:
    body = b'{"schemaVersion": 2}'

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'' if request.method == 'HEAD' else body)

    with client(handler) as registry:
        assert registry.digest(parse_reference('reg.example.com/a:1')) == f'sha256:{hashlib.sha256(body).hexdigest()}'


def test_insecure_registries_come_from_the_engines_registry_config() -> None:
    insecure = insecure_registries(
        {
            'InsecureRegistryCIDRs': ['127.0.0.0/8', '10.9.0.0/16'],
            'IndexConfigs': {
                'docker.io': {'Name': 'docker.io', 'Secure': True},
                'reg.internal:5000': {'Name': 'reg.internal:5000', 'Secure': False},
            },
        }
    )
    assert insecure('127.0.0.1:5000') and insecure('10.9.3.4') and insecure('reg.internal:5000')
    assert insecure('localhost:5000')  # resolved, as the engine resolves it
    assert not insecure('docker.io') and not insecure('10.8.0.1:5000') and not insecure('[::1]:5000')
