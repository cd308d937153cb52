"""The job-update bus: in-process for the embedded default, Redis pub/sub when ``REDIS_URL`` is set."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

import redis

from core.handover import hand_over
from core.jobs.store import JobUpdate

log = logging.getLogger(__name__)
CHANNEL = 'berth:jobs'
Handler = Callable[[JobUpdate], None]


class Bus:
    """Publish from any thread or process; the panel's handler runs on its event loop."""

    kind = 'base'

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
        self.url = url
        self.retry_seconds = retry_seconds
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connected = False

    def publish(self, update: JobUpdate) -> None:
        try:
            self._client.publish(CHANNEL, update.to_json())
        except redis.RedisError as error:  # the job still runs; the panel learns about it when Redis is back
            log.warning('could not publish job update %s: %s', update.job_id, error)

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
                self._connected = True
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
                self._connected = False
                log.warning('job bus: Redis unreachable (%s) — retrying', error)
                self._stop.wait(self.retry_seconds)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except redis.RedisError:
                        pass


def make_bus(redis_url: str | None) -> Bus:
    return RedisBus(redis_url) if redis_url else InProcessBus()
