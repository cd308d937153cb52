"""Endpoints as configuration and as admins enter them: kinds, TLS material, plain TCP only when confirmed, sealed at
rest, and a sentence for every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.docker.endpoint_spec import EndpointError, EndpointKind, parse_endpoints_setting
from core.docker.endpoint_store import StoredEndpoints, endpoint_from_form
from core.docker.endpoints import Endpoint, Endpoints, EndpointSource, UnknownEndpoint
from core.permissions import LOCAL_ENDPOINT
from core.settings import Settings
from core.storage.credentials import SecretBox, derive_key
from core.storage.sqlite import SQLiteDatabase
from tests.support.tls import make_tls_files


@pytest.fixture
def pem(tmp_path: Path) -> dict[str, str]:
    files = make_tls_files(tmp_path / 'tls')
    return {'ca': files.ca.read_text(), 'cert': files.client_cert.read_text(), 'key': files.client_key.read_text()}


def test_berth_endpoints_adds_hosts_after_local_with_their_tls_files(tmp_path: Path) -> None:
    files = make_tls_files(tmp_path / 'tls')
    setting = [
        {'id': 'build', 'name': 'Build host', 'url': 'tcp://10.0.0.2:2376', 'ca': str(files.ca)}
        | {'cert': str(files.client_cert), 'key': str(files.client_key)},
        {'id': 'edge', 'name': 'Edge', 'url': 'unix:///run/edge/docker.sock'},
        {'id': 'lab', 'name': 'Lab', 'url': 'ssh://ops@lab.example'},
    ]
    endpoints = Endpoints.from_settings(Settings(endpoints=json.dumps(setting)))
    assert endpoints.ids == (LOCAL_ENDPOINT, 'build', 'edge', 'lab')
    build = endpoints.get('build')
    assert build.kind is EndpointKind.TLS and build.tls is not None and 'BEGIN CERTIFICATE' in build.tls.ca
    assert 'PRIVATE KEY' not in repr(build)  # key material never in a log line
    assert [endpoints.get(name).kind for name in ('edge', 'lab')] == [EndpointKind.SOCKET, EndpointKind.SSH]
    # a worker serves some of them only; an id it does not define is a sentence
    assert Endpoints.from_settings(Settings(endpoints=json.dumps(setting))).only(['build']).ids == ('build',)
    with pytest.raises(UnknownEndpoint, match='unknown Docker endpoint "nope"'):
        endpoints.only(['nope'])


@pytest.mark.parametrize(
    ('setting', 'sentence'),
    [
        ('{"id": "b"}', 'must be a JSON list of objects'),
        ('[{"id": "b", "url": "tcp://h:2375"', 'is not valid JSON'),
        ('[{"id": "B!", "url": "unix:///s"}]', 'entry 1: id "B!": use 1 to 32 lower-case letters'),
        ('[{"id": "b", "url": "tcp://h:2375"}]', 'gives root on that host to anyone who can reach the port'),
        ('[{"id": "b", "url": "tcp://h"}]', 'a TCP endpoint is tcp://host:port'),
        ('[{"id": "b", "url": "http2://h"}]', 'use unix:///path, tcp://host:port (with TLS) or ssh://user@host'),
        ('[{"id": "b", "url": "tcp://h:2376", "ca": "/nowhere/ca.pem"}]', 'ca: cannot read "/nowhere/ca.pem"'),
        ('[{"id": "b", "url": "unix:///s"}, {"id": "b", "url": "unix:///t"}]', 'the id "b" is used twice'),
        ('[{"id": "b", "url": "unix:///s", "password": "x"}]', 'unknown field(s) password'),
    ],
)
def test_a_bad_berth_endpoints_is_a_sentence(setting: str, sentence: str) -> None:
    with pytest.raises(EndpointError) as refused:
        parse_endpoints_setting(setting)
    assert sentence in str(refused.value)


def test_plain_tcp_only_with_the_confirmation_and_tls_all_or_nothing(pem: dict[str, str]) -> None:
    with pytest.raises(EndpointError, match='gives root on that host'):
        endpoint_from_form(endpoint_id='b', name='B', url='tcp://10.0.0.2:2375')
    plain = endpoint_from_form(endpoint_id='b', name='B', url='tcp://10.0.0.2:2375', insecure=True)
    assert plain.kind is EndpointKind.TCP and plain.insecure
    with pytest.raises(EndpointError, match='TLS needs all three'):
        endpoint_from_form(endpoint_id='b', name='B', url='tcp://10.0.0.2:2376', ca=pem['ca'])
    with pytest.raises(EndpointError, match='client key: not a PEM private key'):
        endpoint_from_form(endpoint_id='b', name='B', url='tcp://h:2376', **{**pem, 'key': pem['cert']})
    with pytest.raises(EndpointError, match='TLS certificates are for tcp:// endpoints only'):
        endpoint_from_form(endpoint_id='b', name='B', url='unix:///var/run/docker.sock', **pem)
    secured = endpoint_from_form(endpoint_id='b', name='B', url='tcp://10.0.0.2:2376', **pem)
    assert secured.kind is EndpointKind.TLS and not secured.insecure
    # an edit with the TLS fields left empty keeps the stored material
    kept = endpoint_from_form(endpoint_id='b', name='B2', url='tcp://10.0.0.3:2376', previous=secured)
    assert kept.tls == secured.tls


def test_stored_endpoints_are_sealed_at_rest(tmp_path: Path, pem: dict[str, str]) -> None:
    database = SQLiteDatabase(tmp_path / 'berth.sqlite3')
    box = SecretBox(derive_key('the panel key'))
    store = StoredEndpoints(database, box)
    store.save(endpoint_from_form(endpoint_id='b', name='B', url='tcp://10.0.0.2:2376', **pem), 'admin')
    raw = json.dumps(database.query('SELECT * FROM endpoints'))
    assert 'PRIVATE KEY' not in raw and 'CERTIFICATE' not in raw
    (loaded,) = store.load()
    assert loaded.tls is not None and loaded.tls.key == pem['key'].strip() + '\n'
    assert loaded.source is EndpointSource.STORED
    # another key cannot open them: the endpoint is left out, the panel still starts
    assert StoredEndpoints(database, SecretBox(derive_key('another key'))).load() == []
    assert store.delete('b') and store.load() == []


def test_endpoints_tell_their_listeners_of_each_change() -> None:
    endpoints = Endpoints([Endpoint(id=LOCAL_ENDPOINT, name='local')])
    heard: list[str] = []
    endpoints.subscribe(heard.append)
    endpoints.put(Endpoint(id='b', name='B', url='unix:///b.sock'))
    endpoints.remove('b')
    assert heard == ['b', 'b'] and endpoints.ids == (LOCAL_ENDPOINT,)
    with pytest.raises(ValueError, match='cannot be removed'):
        endpoints.remove(LOCAL_ENDPOINT)


def test_an_ssh_key_is_for_ssh_endpoints_and_kept_on_edit() -> None:
    key = '-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n'
    with pytest.raises(EndpointError, match='are for ssh:// endpoints only'):
        endpoint_from_form(endpoint_id='b', name='B', url='unix:///b.sock', ssh_key=key)
    with pytest.raises(EndpointError, match='SSH key: not a PEM private key'):
        endpoint_from_form(endpoint_id='b', name='B', url='ssh://ops@b', ssh_key='ssh-ed25519 AAAA public')
    saved = endpoint_from_form(endpoint_id='b', name='B', url='ssh://ops@b', ssh_key=key, known_hosts='b ssh-ed25519 A')
    assert saved.kind is EndpointKind.SSH and saved.ssh_key == key
    assert 'PRIVATE' not in repr(saved)
    assert endpoint_from_form(endpoint_id='b', name='B', url='ssh://ops@b2', previous=saved).ssh_key == key
