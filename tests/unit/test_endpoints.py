"""Endpoints: the engines by id, one ``local`` from the settings, and a sentence for an id nobody serves."""

from __future__ import annotations

import pytest

from core.docker.endpoints import Endpoint, Endpoints, UnknownEndpoint
from core.permissions import LOCAL_ENDPOINT
from core.settings import Settings


def test_one_local_endpoint_from_docker_host() -> None:
    endpoints = Endpoints.from_settings(Settings(docker_host='tcp://engine.example:2375'))
    assert endpoints.ids == (LOCAL_ENDPOINT,)
    assert endpoints.get(LOCAL_ENDPOINT) == Endpoint(id=LOCAL_ENDPOINT, name='local', url='tcp://engine.example:2375')
    assert endpoints.default.id == LOCAL_ENDPOINT


def test_an_unknown_endpoint_is_a_sentence() -> None:
    endpoints = Endpoints(
        [Endpoint(id=LOCAL_ENDPOINT, name='local'), Endpoint(id='build', name='Build host', url='ssh://b')]
    )
    with pytest.raises(UnknownEndpoint) as refusal:
        endpoints.client('prod')
    assert str(refusal.value) == 'unknown Docker endpoint "prod" (known here: local, build)'
