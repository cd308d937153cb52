"""One sandbox run, as a worker runs it: a new locked-down container (core/sandbox/container.py), the script and its
input written to its standard input, stdout and stderr read and reported as they come, the wall clock and the output
cap enforced by killing it, a cancel request honoured the same way; then how it ended, and the container removed.

Whatever the message says, the worker checks again what the panel checked, with the role the panel signed: the
requester may run scripts as that owner, the runtime is well-formed and within the hard ceilings, its body passes the
create policy, and the engine runtime asked for (gVisor's runsc, say) is one the engine has.
"""

from __future__ import annotations

import codecs
import contextlib
import logging
import re
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from contextlib import closing
from datetime import datetime
from typing import Any

import docker

from core.docker.client import describe_error
from core.docker.endpoints import Endpoint
from core.docker.raw import unwrap_socket
from core.jobs.store import JobStatus
from core.operations.report import JobReporter
from core.operations.sandbox_stats import StatsSampler
from core.permissions import Permission, Scope, role_allows
from core.sandbox.container import create_arguments, payload
from core.sandbox.limits import describe
from core.sandbox.run import RunRefused, RunRequest, RunResult, StopReason
from core.sandbox.runs import STDERR, STDOUT

log = logging.getLogger(__name__)
STREAMS = {1: STDOUT, 2: STDERR}
FLUSH_SECONDS = 0.05  # output reaches the panel at most this late once it flows
FLUSH_CHARS = 64 * 1024
CANCEL_CHECK_SECONDS = 0.25
KILL_GRACE = 10.0  # after a kill, how long the end of the stream may take before the worker stops reading
RUNTIMES_SECONDS = 60.0  # how long the engine's list of runtimes is believed
_engine_runtimes: dict[str, tuple[float, set[str], str]] = {}
_engine_lock = threading.Lock()


def sandbox_run(
    endpoint: Endpoint,
    reporter: JobReporter,
    run_id: str,
    params: dict[str, Any],
    role: str,
    cancelled: Callable[[], str],
) -> None:
    """The job: one run; reports its output as it comes, then succeeded (exit code 0) or failed, with the
    :class:`RunResult` in the update's detail. ``cancelled`` says who asked to cancel it ('' nobody)."""
    try:
        request = RunRequest.from_dict(params.get('request') or {})
        requester = str(params.get('requester') or '')
        scope = Scope(endpoint=endpoint.id, owner=request.owner)
        if not role_allows(role, Permission.SANDBOX_RUN, scope, owner_id=requester):
            raise RunRefused(f'a {role or "signed-out user"} cannot run scripts as someone else')
        refused = request.runtime.refusals()
        if refused:
            raise RunRefused(f'the runtime {request.runtime.name} is refused: {"; ".join(refused)}')
    except RunRefused as refusal:
        result = RunResult(error=str(refusal))
        reporter.publish(JobStatus.FAILED, f'refused: {refusal}', detail={'result': result.to_dict()})
        return
    try:
        result = Runner(endpoint, reporter, request, run_id, cancelled).run()
    except RunRefused as refusal:
        result = RunResult(error=str(refusal))
    except Exception as error:  # no such image, engine away: the daemon's own words
        log.warning('sandbox run %s could not run: %s', run_id, error)
        result = RunResult(error=describe_error(error))
    status = JobStatus.SUCCEEDED if result.succeeded else JobStatus.FAILED
    reporter.publish(status, result.headline(), detail={'result': result.to_dict()})


def engine_isolation(api: docker.APIClient, wanted: str) -> str:
    """The engine runtime a run uses: ``wanted`` when the engine has it (else :class:`RunRefused`: never less
    isolated than asked), or the engine's default when nothing is asked."""
    key = str(api.base_url)
    with _engine_lock:
        known = _engine_runtimes.get(key)
    if known is None or time.monotonic() - known[0] > RUNTIMES_SECONDS or (wanted and wanted not in known[1]):
        info = api.info()
        known = (time.monotonic(), set(info.get('Runtimes') or {}), str(info.get('DefaultRuntime') or 'runc'))
        with _engine_lock:
            _engine_runtimes[key] = known
    _, runtimes, default = known
    if not wanted:
        return default
    if wanted not in runtimes:
        raise RunRefused(
            f'the engine has no runtime {wanted} (BERTH_SANDBOX_RUNTIME); it has {", ".join(sorted(runtimes))}'
        )
    return wanted


class Runner:
    """Runs one request to its end; :meth:`run` returns how it ended (the container is gone by then)."""

    def __init__(
        self,
        endpoint: Endpoint,
        reporter: JobReporter,
        request: RunRequest,
        run_id: str,
        cancelled: Callable[[], str],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.endpoint = endpoint
        self.reporter = reporter
        self.request = request
        self.run_id = run_id
        self.cancelled = cancelled
        self.clock = clock
        self.limits = request.runtime.limits
        self.result = RunResult(process_limit=self.limits.pids)
        self.decoders = {stream: codecs.getincrementaldecoder('utf-8')(errors='replace') for stream in STREAMS.values()}
        self.pending: list[list[str]] = []
        self.pending_chars = 0
        self.last_flush = -1.0e9
        self.killed_at: float | None = None

    def run(self) -> RunResult:
        with closing(self.endpoint.connect(timeout=30)) as client:
            api = client.api
            isolation = engine_isolation(api, self.request.isolation)
            self.result.isolation = isolation
            arguments = create_arguments(
                api, self.request, run_id=self.run_id, isolation=self.request.isolation, now=time.time()
            )
            container_id = str(api.create_container(**arguments)['Id'])
            try:
                self._run(api, container_id)
            finally:
                remove(api, container_id)
        return self.result

    def _run(self, api: docker.APIClient, container_id: str) -> None:
        attached = api.attach_socket(container_id, params={'stdin': 1, 'stdout': 1, 'stderr': 1, 'stream': 1})
        sock, handles = unwrap_socket(attached)
        sampler = StatsSampler(self.endpoint, container_id, api.api_version)
        try:
            api.start(container_id)
            started = self.clock()
            sampler.start()
            feeder = threading.Thread(target=self._feed, args=(sock,), name=f'berth-sandbox-feed-{self.run_id[:8]}')
            feeder.daemon = True
            feeder.start()
            self._read(api, container_id, sock, started)
            self._flush(force=True)
        finally:
            for handle in (sock, *handles):
                with contextlib.suppress(Exception):
                    handle.close()
            sampler.stop()
        api.wait(container_id, timeout=30)
        state = api.inspect_container(container_id).get('State') or {}
        self._conclude(state, sampler)

    def _feed(self, sock: socket.socket) -> None:
        """The script and the input, then the end of the input (the bootstrap reads until then)."""
        try:
            sock.sendall(payload(self.request))
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the run ended before it read everything (killed, or its bootstrap failed): its output says so

    def _read(self, api: docker.APIClient, container_id: str, sock: socket.socket, started: float) -> None:
        deadline = started + self.limits.timeout
        next_cancel_check = started
        buffer = bytearray()
        sock.settimeout(None)  # blocking, for the feeder's writes too; reads wait in select instead
        while True:
            now = self.clock()
            if self.result.stopped == '':
                if now >= deadline:
                    self._stop(api, container_id, StopReason.TIME_LIMIT, describe('timeout', self.limits.timeout))
                elif now >= next_cancel_check:
                    next_cancel_check = now + CANCEL_CHECK_SECONDS
                    who = self.cancelled()
                    if who:
                        self.result.stopped_by = who
                        self._stop(api, container_id, StopReason.CANCELLED, '')
            elif self.killed_at is not None and now - self.killed_at > KILL_GRACE:
                return
            try:
                readable, _, _ = select.select([sock], [], [], 0.1)
                data = sock.recv(256 * 1024) if readable else None
            except (OSError, ValueError):
                return
            if data == b'':
                return
            if data:
                buffer += data
                for stream, chunk in _frames(buffer):
                    self._output(api, container_id, stream, chunk)
            self._flush()

    def _output(self, api: docker.APIClient, container_id: str, stream: str, chunk: bytes) -> None:
        if self.result.stopped:
            return  # what comes after a stop is not kept
        room = self.limits.output - self.result.output_bytes
        if len(chunk) > room:
            chunk = chunk[:room]
            self._stop(api, container_id, StopReason.OUTPUT_LIMIT, describe('output', self.limits.output))
        self.result.output_bytes += len(chunk)
        text = self.decoders[stream].decode(chunk, final=bool(self.result.stopped))
        self._add(stream, text)

    def _add(self, stream: str, text: str) -> None:
        if not text:
            return
        if self.pending and self.pending[-1][0] == stream:
            self.pending[-1][1] += text
        else:
            self.pending.append([stream, text])
        self.pending_chars += len(text)

    def _flush(self, *, force: bool = False) -> None:
        if force:
            for stream, decoder in self.decoders.items():
                self._add(stream, decoder.decode(b'', final=True))
        if not self.pending:
            return
        now = self.clock()
        if force or self.pending_chars >= FLUSH_CHARS or now - self.last_flush >= FLUSH_SECONDS:
            self.reporter.publish(JobStatus.PROGRESS, detail={'output': self.pending})
            self.pending, self.pending_chars, self.last_flush = [], 0, now

    def _stop(self, api: docker.APIClient, container_id: str, reason: StopReason, limit: str) -> None:
        """Kills the run, in a thread of its own: the engine finishes a kill only once the container's output is
        drained, and this thread is the one reading it."""
        self.result.stopped, self.result.limit = reason.value, limit
        self.killed_at = self.clock()
        threading.Thread(target=self._kill, args=(api, container_id), name='berth-sandbox-kill', daemon=True).start()

    def _kill(self, api: docker.APIClient, container_id: str) -> None:
        try:
            api.kill(container_id)
        except docker.errors.APIError as error:
            if error.status_code != 409:  # 409: it has ended by itself meanwhile
                log.warning('could not kill the sandbox container %s: %s', container_id[:12], describe_error(error))
        except Exception as error:  # the engine away or slow: the time limit's grace, then the removal, end it
            log.warning('could not kill the sandbox container %s: %s', container_id[:12], describe_error(error))

    def _conclude(self, state: dict[str, Any], sampler: StatsSampler) -> None:
        self.result.exit_code = int(state.get('ExitCode', -1))
        if state.get('OOMKilled') and not self.result.stopped:
            self.result.stopped = StopReason.MEMORY_LIMIT.value
            self.result.limit = describe('memory', self.limits.memory)
        self.result.duration = _seconds_between(str(state.get('StartedAt') or ''), str(state.get('FinishedAt') or ''))
        self.result.peak_memory = sampler.peak_memory
        self.result.cpu_seconds = sampler.cpu_seconds
        self.result.peak_processes = sampler.peak_processes


def remove(api: docker.APIClient, container_id: str, *, attempts: int = 4) -> None:
    """Removes the run's container, trying again a few times: on a busy engine a forced removal right after a kill can
    fail ("is already in progress", a kill not yet finished). What is still left the janitor removes later."""
    for attempt in range(attempts):
        try:
            api.remove_container(container_id, force=True)
            return
        except docker.errors.NotFound:
            return
        except Exception as error:  # the engine busy or away: try again, then leave it to the janitor
            if attempt == attempts - 1:
                log.warning('could not remove the sandbox container %s: %s', container_id[:12], describe_error(error))
                return
            time.sleep(0.5 * (attempt + 1))


def _frames(buffer: bytearray) -> list[tuple[str, bytes]]:
    """The whole frames at the start of ``buffer`` (removed from it): Docker's 8-byte header, stream 1 or 2, size."""
    frames = []
    while len(buffer) >= 8:
        stream_type, size = buffer[0], struct.unpack('>I', bytes(buffer[4:8]))[0]
        if len(buffer) < 8 + size:
            break
        frames.append((STREAMS.get(stream_type, STDOUT), bytes(buffer[8 : 8 + size])))
        del buffer[: 8 + size]
    return frames


_FRACTION = re.compile(r'(\.\d{1,6})\d*')


def _seconds_between(started: str, finished: str) -> float | None:
    """Seconds between two of the engine's RFC 3339 timestamps (nanoseconds cut to microseconds)."""
    try:
        start = datetime.fromisoformat(_FRACTION.sub(r'\1', started).replace('Z', '+00:00'))
        end = datetime.fromisoformat(_FRACTION.sub(r'\1', finished).replace('Z', '+00:00'))
    except ValueError:
        return None
    seconds = (end - start).total_seconds()
    return seconds if seconds >= 0 else None
