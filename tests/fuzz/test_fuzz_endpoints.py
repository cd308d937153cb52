"""BERTH_ENDPOINTS and the endpoint form's fields (core/docker/endpoint_spec.py) under hostile values: endpoint
definitions, or an EndpointError that is a sentence — never another exception."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from core.docker.endpoint_spec import EndpointError, kind_of, parse_endpoints_setting, tls_material

from .strategies import assert_sentence, hostile_text

FIELDS = ('id', 'name', 'url', 'ca', 'cert', 'key', 'ssh_key', 'known_hosts', 'insecure', 'other')
URLS = st.one_of(
    hostile_text(),
    st.builds(
        lambda scheme, rest: f'{scheme}://{rest}',
        st.sampled_from(('unix', 'tcp', 'http', 'https', 'ssh', 'npipe', '')),
        hostile_text(),
    ),
)
VALUES: st.SearchStrategy[Any] = st.one_of(
    hostile_text(), URLS, st.none(), st.booleans(), st.integers(), st.floats(), st.lists(st.integers(), max_size=2)
)
ENTRY = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=6)


def _setting(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@given(st.one_of(hostile_text(), st.lists(ENTRY, max_size=3), ENTRY, st.lists(VALUES, max_size=2)).map(_setting))
@example('[{"id": "b", "url": "tcp://h:2376", "ca": "/no\\u0000such"}]')  # was: ValueError: embedded null byte
@example('[{"id": "b", "url": "tcp://h:²"}]')
@example('[{"id": "b", "url": "tcp://[::1:2376"}]')  # was: ValueError from urlsplit (an unclosed IPv6 bracket)
@example('[{"id": "b", "url": "unix:///x", "ca": "/"}]')  # a directory, not a file
@example('[' * 5000 + ']' * 5000)  # was: RecursionError from the JSON parser
def test_berth_endpoints(text: str) -> None:
    try:
        definitions = parse_endpoints_setting(text)
    except EndpointError as error:
        assert_sentence(str(error))
        return
    ids = [definition['id'] for definition in definitions]
    assert len(ids) == len(set(ids))


@given(URLS, st.booleans())
@example('tcp://[::1:2376', True)
@example('ssh://[', False)
def test_endpoint_urls(url: str, tls: bool) -> None:
    try:
        kind_of(url, tls=tls)
    except EndpointError as error:
        assert_sentence(str(error))


@given(hostile_text(), hostile_text(), hostile_text())
def test_pasted_tls_material(ca: str, cert: str, key: str) -> None:
    try:
        tls_material(ca, cert, key)
    except EndpointError as error:
        assert_sentence(str(error))
