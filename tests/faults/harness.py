"""What the fault tests do and look at around the processes they hurt.

- :class:`SecondPanel` queues jobs as another panel of the same install would (signed with the panel's key, recorded
  as queued on the bus, sent to the queue): the panel under test learns them from the bus, as it learns any job;
- :func:`panel_jobs` reads the job centre's record (the panel's database, read-only);
- :class:`ChannelRecorder` keeps every update that went over ``berth:jobs`` (reconnecting after a Redis restart);
- :func:`redeliver_from_dead_workers` runs Dramatiq's own maintenance (its dispatch script) at once, instead of by the
  chance of one command in a thousand: messages that dead workers held go back to their queue.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any

import redis
from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker

from core.jobs.ledger import CHANNEL
from core.jobs.store import JobStatus, JobUpdate
from core.settings import Settings
from core.storage.credentials import SecretBox
from tasks.actors import declare
from tasks.broker import QUEUE, make_broker


class SecondPanel:
    """Dispatches jobs into the panel's Redis with the panel's key, as ``Commands.dispatch`` does."""

    def __init__(self, redis_url: str, data_dir: Path) -> None:
        settings = Settings(data_dir=data_dir, redis_url=redis_url)
        box = SecretBox.from_settings(settings, create=False)
        assert box is not None, 'the panel under test has made its key'
        self.signer = box.signer
        self.broker = make_broker(settings)
        self.senders = declare(self.broker).senders()
        self.redis = redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=5)

    def container_action(
        self, action: str, container_id: str, name: str, params: dict[str, Any], *, send: bool = True
    ) -> str:
        """Queues the job and returns its id; ``send=False`` records it as queued only, as a panel killed between
        recording a job and sending its message would have."""
        return self.queue(f'container.{action}', container_id, name, (action, container_id), params, send=send)

    def queue(
        self,
        kind: str,
        target: str,
        name: str,
        arguments: tuple[Any, ...],
        params: dict[str, Any],
        *,
        send: bool = True,
    ) -> str:
        """Any job, as ``Commands.dispatch`` queues it (``arguments`` are what the actor takes after the job, before
        ``params``): recorded as queued on the bus, then sent, signed; returns its id."""
        job_id = uuid.uuid4().hex
        job = {
            'job_id': job_id,
            'kind': kind,
            'target': target,
            'target_name': name,
            'requested_by': 'admin',
            'role': 'admin',
            'endpoint': 'local',
            'owner': '',
        }
        queued = JobUpdate(job_id=job_id, status=JobStatus.QUEUED, kind=kind, target=target, target_name=name)
        queued.requested_by = 'admin'
        self.redis.publish(CHANNEL, queued.to_json())
        if send:
            self.senders[kind](self.signer.sign(job, arguments, params), *arguments, params)
        return job_id

    def close(self) -> None:
        self.broker.close()
        self.redis.close()


def panel_jobs(data_dir: Path) -> dict[str, dict[str, Any]]:
    """The panel's job rows by id (what its job centre shows after a reload), read-only."""
    path = data_dir / 'berth.sqlite3'
    with contextlib.closing(sqlite3.connect(f'file:{path}?mode=ro', uri=True, timeout=5)) as connection:
        connection.row_factory = sqlite3.Row
        return {row['job_id']: dict(row) for row in connection.execute('SELECT * FROM jobs')}


class ChannelRecorder:
    """Every update published on ``berth:jobs`` while it runs (it subscribes again after Redis comes back)."""

    def __init__(self, redis_url: str) -> None:
        self.url = redis_url
        self.updates: list[JobUpdate] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name='test-channel-recorder', daemon=True)
        self._subscribed = threading.Event()

    def start(self) -> ChannelRecorder:
        self._thread.start()
        self._subscribed.wait(10)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def of(self, job_id: str, status: str | None = None) -> list[JobUpdate]:
        return [update for update in list(self.updates) if update.job_id == job_id and status in (None, update.status)]

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                pubsub.get_message(timeout=1.0)
                self._subscribed.set()
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.2)
                    if message and message.get('type') == 'message':
                        self.updates.append(JobUpdate.from_json(message['data']))
            except redis.RedisError:
                self._stop.wait(0.2)


def redeliver_from_dead_workers(redis_url: str, silent_for_ms: int) -> None:
    """Dramatiq's maintenance, now: the messages of every worker silent for ``silent_for_ms`` go back to their queue."""
    broker = RedisBroker(
        url=redis_url, namespace='berth', heartbeat_timeout=silent_for_ms, maintenance_chance=MAINTENANCE_SCALE
    )
    try:
        broker.do_qsize(QUEUE)
    finally:
        broker.close()


def queue_holds(redis_url: str, job_id: str) -> bool:
    """Is the job's message still on a Dramatiq queue (waiting, or held by a worker that has not acknowledged it)?"""
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=1)
    try:
        return any(job_id.encode() in value for value in client.hvals(f'berth:{QUEUE}.msgs'))
    finally:
        client.close()
