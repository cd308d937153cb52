"""The job-update bus: in-process for the embedded default, Redis pub/sub when ``REDIS_URL`` is set.

On Redis, every update also goes to the job's ledger entry (:mod:`core.jobs.ledger`) and waits in an outbox
(:mod:`core.jobs.outbox`) while Redis is away; the panel's subscriber says whether it hears the queue
(:class:`~core.jobs.queue_status.QueueStatus`) and reconnects by itself.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

import redis

from core.handover import hand_over
from core.jobs.ledger import CHANNEL, JobLedger
from core.jobs.outbox import Outbox
from core.jobs.queue_status import QueueStatus
from core.jobs.store import JobUpdate

log = logging.getLogger(__name__)
__all__ = ['CHANNEL', 'Bus', 'InProcessBus', 'RedisBus', 'make_bus']
Handler = Callable[[JobUpdate], None]


class Bus:
    """Publish from any thread or process; the panel's handler runs on its event loop."""

    kind = 'base'
    ledger: JobLedger | None = None  # what workers last said of each job, where the bus can keep it

    def __init__(self) -> None:
        self.status = QueueStatus()  # whether the panel hears the workers (always, in process)

    def publish(self, update: JobUpdate) -> None:
        raise NotImplementedError

    def start(self, loop: asyncio.AbstractEventLoop, handler: Handler) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Stops listening."""

    def health(self) -> tuple[bool, str]:
        return True, 'ok'


class InProcessBus(Bus):
    """Worker threads and the panel share a process: hand the update to the loop."""

    kind = 'embedded'

    def __init__(self) -> None:
        super().__init__()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handler: Handler | None = None

    def publish(self, update: JobUpdate) -> None:
        if self._handler is not None:
            hand_over(self._loop, self._handler, update)

    def start(self, loop: asyncio.AbstractEventLoop, handler: Handler) -> None:
        self._loop, self._handler = loop, handler

    def stop(self) -> None:
        self._handler = None


class RedisBus(Bus):
    """Redis pub/sub: workers on any machine publish, every panel process listens."""

    kind = 'redis'

    def __init__(self, url: str, *, retry_seconds: float = 1.0) -> None:
        super().__init__()
        self.url = url
        self.retry_seconds = retry_seconds
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
        self.ledger = JobLedger(self._client)
        # the job still runs while Redis is away: its updates wait, in order, and the ledger gets them too
        self.outbox = Outbox(self.ledger.record, retry_seconds=retry_seconds)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connected = False
        self._said_down = False

    def publish(self, update: JobUpdate) -> None:
        self.outbox.send(update)

    def start(self, loop: asyncio.AbstractEventLoop, handler: Handler) -> None:
        self._thread = threading.Thread(target=self._listen, args=(loop, handler), name='berth-bus', daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def health(self) -> tuple[bool, str]:
        try:
            self._client.ping()
            return True, 'connected'
        except redis.RedisError as error:
            return False, f'Redis unreachable: {error}'

    def _listen(self, loop: asyncio.AbstractEventLoop, handler: Handler) -> None:
        while not self._stop.is_set():
            pubsub = None
            try:
                listener = redis.Redis.from_url(self.url, socket_connect_timeout=3, health_check_interval=10)
                pubsub = listener.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                pubsub.get_message(timeout=1.0)  # the subscription's confirmation: it is in place from here on
                self._connected, self._said_down = True, False
                hand_over(loop, self.status.connected)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message and message.get('type') == 'message':
                        try:
                            update = JobUpdate.from_json(message['data'])
                        except (ValueError, TypeError):
                            log.warning('ignored a malformed job update on %s', CHANNEL)
                            continue
                        if self._stop.is_set() or not hand_over(loop, handler, update):
                            return
            except redis.RedisError as error:
                if self._connected or not self._said_down:
                    log.warning('job bus: Redis unreachable (%s) — retrying', error)
                    hand_over(loop, self.status.lost)
                self._connected, self._said_down = False, True
                self._stop.wait(self.retry_seconds)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except redis.RedisError:
                        pass


def make_bus(redis_url: str | None) -> Bus:
    return RedisBus(redis_url) if redis_url else InProcessBus()
