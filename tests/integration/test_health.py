"""/healthz against the real parts: the Docker engine, Redis and PostgreSQL each behind a proxy this test owns, cut
and restored (the services everyone else uses keep running). Over HTTP: tests/ui/test_pages.py."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import psycopg
import pytest

from core.settings import Settings
from pages.health import health_report
from system import Services, build
from tests.support.eventually import eventually
from tests.support.socket_proxy import SocketProxy
from tests.support.tcp_proxy import TcpProxy

from .test_database_postgres import POSTGRES_URL


@dataclass
class Parts:
    services: Services
    docker: SocketProxy
    redis: TcpProxy
    postgres: TcpProxy


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    schema = f'test_{uuid.uuid4().hex[:12]}'
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA {schema}'.encode())
    yield schema
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA {schema} CASCADE'.encode())


@pytest.fixture
async def parts(tmp_path: Path, redis_url: str, postgres_schema: str) -> AsyncIterator[Parts]:
    docker = SocketProxy(str(tmp_path / 'docker.sock'))
    docker.start()
    redis_target, postgres_target = urlsplit(redis_url), urlsplit(POSTGRES_URL)
    redis = TcpProxy(redis_target.hostname or '127.0.0.1', redis_target.port or 6379).start()
    postgres = TcpProxy(postgres_target.hostname or '127.0.0.1', postgres_target.port or 5432).start()
    proxied_postgres = postgres_target._replace(
        netloc=f'{postgres_target.username}:{postgres_target.password}@127.0.0.1:{postgres.port}',
        query=f'options={quote(f"-csearch_path={postgres_schema}")}',
    ).geturl()
    settings = Settings(
        data_dir=tmp_path / 'data',
        docker_host=docker.url,
        redis_url=redis_target._replace(netloc=f'127.0.0.1:{redis.port}').geturl(),
        database_url=proxied_postgres,
    )
    running = build(settings)
    running.watchers.retry_seconds = 0.2
    await running.start()
    await eventually(lambda: running.state.engine_ok, what='connected through the proxy')
    yield Parts(running, docker, redis, postgres)
    for proxy in (docker, redis, postgres):
        proxy.cut()
    postgres.start()  # the writer hands over what it holds before the panel stops
    await running.stop()
    postgres.cut()


async def test_healthz_names_each_part_that_is_down_and_recovers_with_it(parts: Parts) -> None:
    services = parts.services
    # Given every part up: ok, nothing down
    report = await health_report(services)
    assert (report['status'], report['down']) == ('ok', []), report
    assert report['docker']['endpoints'] == {'local': {'ok': True, 'message': 'connected'}}
    assert (report['broker']['kind'], report['broker']['ok'], report['database']['ok']) == ('redis', True, True)

    # When Redis goes away, then PostgreSQL, then the Docker engine: each is named, alone, then together
    parts.redis.cut()
    assert (await health_report(services))['down'] == ['broker']
    parts.postgres.cut()
    assert (await health_report(services))['down'] == ['broker', 'database']
    parts.docker.cut()
    report: dict[str, Any] = {}

    async def all_down() -> bool:
        nonlocal report
        report = await health_report(services)
        return report['down'] == ['docker local', 'broker', 'database']

    await eventually(all_down, what=lambda: f'docker, broker and database named as down (last: {report})')
    assert report['status'] == 'degraded' and report['docker']['ok'] is False
    assert report['docker']['endpoints']['local'] == {'ok': False, 'message': 'Docker engine unreachable'}
    # nothing of the configuration leaks: no addresses, ports or paths
    text = str(report)
    for secret in (str(parts.redis.port), str(parts.postgres.port), parts.docker.path, 'berth:berth'):
        assert secret not in text

    # Then, each part back, the report is ok again without restarting anything
    for proxy in (parts.redis, parts.postgres, parts.docker):
        proxy.start()

    async def all_up() -> bool:
        nonlocal report
        report = await health_report(services)
        return report['status'] == 'ok'

    await eventually(all_up, timeout=15, what=f'every part up again (last: {report})')
