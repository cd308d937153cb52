"""The Docker client Berth makes (core/docker/client.py) against the real engine, through a counting proxy."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.docker.client import make_client
from tests.support.counting_proxy import CountingProxy


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[CountingProxy]:
    counting = CountingProxy(tmp_path / 'docker.sock')
    yield counting
    counting.close()


def test_a_client_looks_at_many_containers_over_one_connection(
    proxy: CountingProxy, make_container: Callable[..., str]
) -> None:
    # Given five containers and a client that has already asked the engine something
    names = [make_container(name=f'bld-client-{index}', start=False) for index in range(5)]
    client = make_client(proxy.url)
    try:
        client.api.inspect_container(names[0])
        opened = proxy.opened
        # When it looks at each of them, one after the other, twice
        for name in names * 2:
            client.api.inspect_container(name)
        # Then no connection was opened for that: the one it had is reused whatever the path
        # (docker-py's own unix adapter keeps a pool, and so a connection, per request URL)
        assert proxy.opened == opened
        assert proxy.live <= opened
    finally:
        client.close()
