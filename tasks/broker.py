"""Broker selection: Redis when ``REDIS_URL`` is set, else an in-memory broker for the embedded worker threads."""

from __future__ import annotations

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

QUEUE = 'berth'


def redis_url_from_env() -> str | None:
    return os.environ.get('REDIS_URL') or os.environ.get('BERTH_REDIS_URL') or None


def make_broker(redis_url: str | None) -> dramatiq.Broker:
    if redis_url:
        # a worker that dies mid-job has its unacknowledged message re-queued after the heartbeat timeout
        return RedisBroker(url=redis_url, namespace='berth', heartbeat_timeout=20_000)
    return StubBroker()


_broker_url: str | None = redis_url_from_env()
broker = make_broker(_broker_url)
dramatiq.set_broker(broker)


def ensure(redis_url: str | None, *, fresh: bool = False) -> dramatiq.Broker:
    """Points the declared actors at the broker the settings ask for (the panel's settings may differ from env).

    ``fresh`` makes a new broker even when the kind is unchanged: an embedded worker starts on a clean one.
    """
    global broker, _broker_url
    if redis_url == _broker_url and not fresh:
        return broker
    new_broker = make_broker(redis_url)
    for name in broker.get_declared_actors():
        actor = broker.get_actor(name)
        actor.broker = new_broker
        new_broker.declare_actor(actor)
    dramatiq.set_broker(new_broker)
    broker, _broker_url = new_broker, redis_url
    return broker


def start_embedded_worker(threads: int) -> dramatiq.Worker:
    """The embedded default: worker threads inside the panel process, same actors, same code path."""
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=100)
    worker.start()
    return worker
