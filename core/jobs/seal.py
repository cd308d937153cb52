"""Jobs a worker may run: signed by the panel after its checks, and run at most once.

Anyone who can write to Redis can put a message on the queue. The panel signs every job it dispatches (HMAC-SHA256
over the job, its arguments and its parameters, with a key derived from ``BERTH_SECRET_KEY`` or the data dir's key
file); a worker refuses a message whose signature does not match, that is older than a day, or whose job id has
been claimed before (a replayed message). So the role a worker reads from a message is the role the panel checked.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from typing import Any

import redis

SIGNATURE = 'signature'
SIGNED_AT = 'signed_at'
MAX_AGE_SECONDS = 24 * 3600
CLAIM_PREFIX = 'berth:claimed:'
_CONTEXT = b'berth job signature v1'


class JobRefused(Exception):
    """The message is not a job the panel dispatched (or it ran already); the message is a sentence."""


class JobSigner:
    """Signs and checks job messages with one secret shared by the panel and its workers."""

    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, _CONTEXT, hashlib.sha256).digest()

    def sign(self, job: dict[str, Any], arguments: tuple[Any, ...], params: dict[str, Any]) -> dict[str, Any]:
        """``job`` with the time and the signature added."""
        signed = {**job, SIGNED_AT: time.time()}
        signed[SIGNATURE] = self._digest(signed, arguments, params)
        return signed

    def verify(
        self, job: dict[str, Any], arguments: tuple[Any, ...], params: dict[str, Any], *, now: float | None = None
    ) -> None:
        """Raises :class:`JobRefused` unless the panel signed exactly this job, arguments and parameters lately."""
        signature = str(job.get(SIGNATURE) or '')
        if not signature:
            raise JobRefused('refused: the job carries no signature from the panel')
        if not hmac.compare_digest(signature, self._digest(job, arguments, params)):
            raise JobRefused(
                "refused: the job's signature does not match (not dispatched by this panel, or changed "
                'on the way; the panel and every worker need the same BERTH_SECRET_KEY)'
            )
        try:
            age = (now or time.time()) - float(job.get(SIGNED_AT) or 0)
        except (TypeError, ValueError):
            age = MAX_AGE_SECONDS + 1
        if not -60 < age < MAX_AGE_SECONDS:
            raise JobRefused('refused: the job was signed more than a day ago')

    def _digest(self, job: dict[str, Any], arguments: tuple[Any, ...], params: dict[str, Any]) -> str:
        body = {key: value for key, value in job.items() if key != SIGNATURE}
        text = json.dumps([body, list(arguments), params], sort_keys=True, separators=(',', ':'), default=str)
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()


class JobClaims:
    """Job ids a worker has started; a second start of the same id is refused. In-process for the embedded worker."""

    def __init__(self) -> None:
        self._claimed: dict[str, float] = {}
        self._lock = threading.Lock()

    def claim(self, job_id: str) -> bool:
        """True the first time ``job_id`` is claimed, False after."""
        now = time.time()
        with self._lock:
            if job_id in self._claimed:
                return False
            if len(self._claimed) > 10_000:  # ids older than a signature's life can never come back: forget them
                self._claimed = {key: at for key, at in self._claimed.items() if now - at < MAX_AGE_SECONDS}
            self._claimed[job_id] = now
            return True


class RedisJobClaims(JobClaims):
    """One key per started job (kept as long as a signature is valid), shared by every worker."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._redis = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)

    def claim(self, job_id: str, *, wait: float = 30.0) -> bool:
        """Waits up to ``wait`` seconds for a Redis that does not answer (restarting): a job runs only once claimed."""
        deadline = time.monotonic() + wait
        while True:
            try:
                return bool(self._redis.set(f'{CLAIM_PREFIX}{job_id}', '1', nx=True, ex=MAX_AGE_SECONDS))
            except redis.RedisError as error:
                if time.monotonic() > deadline:
                    raise JobRefused(
                        f'not run: the job queue (Redis) did not answer, so the job could not be claimed ({error})'
                    ) from None
                time.sleep(0.5)


def make_job_claims(redis_url: str | None) -> JobClaims:
    return RedisJobClaims(redis_url) if redis_url else JobClaims()
