"""The panel's record of sandbox runs: the ones queued or running (and the last few finished) in memory, folded from
their job's updates on the event loop; every run, with its output up to a bound, in the database (written by the
database's writer thread), the last ``keep`` of each person."""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.jobs.store import FINISHED, Job, JobStatus, JobUpdate
from core.permissions import LOCAL_ENDPOINT, Scope
from core.sandbox.limits import CEILINGS
from core.sandbox.run import RunRequest, RunResult
from core.storage.database import Database

log = logging.getLogger(__name__)
KIND = 'sandbox.run'  # the job kind (and audit action) of a run
STDOUT, STDERR = 'stdout', 'stderr'
Segment = tuple[str, str]  # (stream, text)
RunListener = Callable[['SandboxRun', list[Segment]], None]
RESTARTED = 'the panel restarted while the run was queued or running'


class RunPhase(StrEnum):
    QUEUED = 'queued'
    RUNNING = 'running'
    FINISHED = 'finished'


class RunOutput:
    """stdout and stderr as they came, as segments of one stream each; at most ``limit`` characters (the rest is
    counted, not kept)."""

    def __init__(self, limit: int = CEILINGS.output) -> None:
        self.limit = limit
        self.segments: list[list[str]] = []  # [stream, text]
        self.chars = 0
        self.dropped = 0

    def extend(self, chunk: list[Segment]) -> list[Segment]:
        """Adds ``chunk``; returns what was kept of it."""
        kept: list[Segment] = []
        for stream, whole in chunk:
            room = max(self.limit - self.chars, 0)
            text = whole[:room]
            self.dropped += len(whole) - len(text)
            if not text:
                continue
            if self.segments and self.segments[-1][0] == stream:
                self.segments[-1][1] += text
            else:
                self.segments.append([stream, text])
            self.chars += len(text)
            kept.append((stream, text))
        return kept

    def text(self) -> str:
        return ''.join(text for _, text in self.segments)

    def to_json(self) -> str:
        return json.dumps(self.segments)

    @classmethod
    def from_json(cls, text: str) -> RunOutput:
        output = cls()
        try:
            output.extend([(str(stream), str(part)) for stream, part in json.loads(text or '[]')])
        except (ValueError, TypeError):
            pass
        return output


@dataclass(kw_only=True, slots=True)
class SandboxRun:
    run_id: str  # the id of its job
    owner: str
    username: str
    runtime: str
    script: str
    stdin: str = ''
    arguments: list[str] = field(default_factory=list)
    script_sha256: str = ''
    isolation: str = ''  # what the panel asked for ('' the engine's default); the result says what isolated it
    endpoint: str = LOCAL_ENDPOINT
    phase: RunPhase = RunPhase.QUEUED
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    result: RunResult | None = None
    message: str = ''  # how the job ended, in a sentence
    output: RunOutput = field(default_factory=RunOutput)

    @classmethod
    def of(cls, run_id: str, request: RunRequest, endpoint: str) -> SandboxRun:
        return cls(
            run_id=run_id,
            owner=request.owner,
            username=request.username,
            runtime=request.runtime.name,
            script=request.script,
            stdin=request.stdin,
            arguments=list(request.arguments),
            script_sha256=request.script_sha256,
            isolation=request.isolation,
            endpoint=endpoint,
        )

    @property
    def scope(self) -> Scope:
        """A run belongs to whoever asked for it: an own-things-only role reaches only its own runs."""
        return Scope(endpoint=self.endpoint, owner=self.owner)

    @property
    def title(self) -> str:
        """The script's first non-empty line, short: how the history names a run."""
        line = next((line.strip() for line in self.script.splitlines() if line.strip()), '')
        return line if len(line) <= 60 else f'{line[:59]}…'

    @property
    def elapsed(self) -> float | None:
        if self.started_at is None:
            return None
        return (self.finished_at or time.time()) - self.started_at

    def summary(self) -> str:
        """How it ended (or where it is), in one line."""
        if self.phase != RunPhase.FINISHED:
            return self.phase.value
        return self.result.summary() if self.result is not None else self.message or 'finished'

    def row(self) -> dict[str, Any]:
        return {
            'run_id': self.run_id,
            'owner': self.owner,
            'username': self.username,
            'endpoint': self.endpoint,
            'runtime': self.runtime,
            'phase': self.phase.value,
            'title': self.title,
            'summary': self.summary(),
            'created_at': self.created_at,
            'finished_at': self.finished_at,
            'request': json.dumps(
                {
                    'script': self.script,
                    'stdin': self.stdin,
                    'arguments': self.arguments,
                    'script_sha256': self.script_sha256,
                    'isolation': self.isolation,
                    'started_at': self.started_at,
                    'message': self.message,
                }
            ),
            'result': json.dumps(self.result.to_dict() if self.result else None),
            'output': self.output.to_json(),
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SandboxRun:
        request = json.loads(row.get('request') or '{}')
        result = json.loads(row.get('result') or 'null')
        return cls(
            run_id=row['run_id'],
            owner=row['owner'],
            username=row['username'],
            endpoint=row.get('endpoint') or LOCAL_ENDPOINT,
            runtime=row['runtime'],
            phase=RunPhase(row['phase']),
            created_at=row['created_at'],
            finished_at=row.get('finished_at'),
            script=str(request.get('script') or ''),
            stdin=str(request.get('stdin') or ''),
            arguments=[str(argument) for argument in request.get('arguments') or []],
            script_sha256=str(request.get('script_sha256') or ''),
            isolation=str(request.get('isolation') or ''),
            started_at=request.get('started_at'),
            message=str(request.get('message') or ''),
            result=RunResult.from_dict(result) if isinstance(result, dict) else None,
            output=RunOutput.from_json(row.get('output') or '[]'),
        )


@dataclass(kw_only=True, slots=True, frozen=True)
class RunSummary:
    """One line of a person's history."""

    run_id: str
    runtime: str
    title: str
    summary: str
    phase: str
    created_at: float


class SandboxRuns:
    """Runs in memory while they matter to open pages, in the database for the history; changed on the loop only."""

    def __init__(self, database: Database, *, keep: int = 100, recent: int = 50) -> None:
        self.database = database
        self.keep = keep  # finished runs kept per person
        self.recent = recent  # finished runs kept in memory
        self.live: OrderedDict[str, SandboxRun] = OrderedDict()
        self._listeners: dict[str, list[RunListener]] = {}
        # the panel stopped while these were queued or running: nobody will report them any more
        database.execute(
            "UPDATE sandbox_runs SET phase = 'finished', summary = ? WHERE phase <> 'finished'", (RESTARTED,)
        )

    def add(self, run: SandboxRun) -> None:
        self.live[run.run_id] = run
        self._persist(run)

    def get(self, run_id: str) -> SandboxRun | None:
        """A run in memory (queued, running, or recently finished)."""
        return self.live.get(run_id)

    def find(self, run_id: str) -> SandboxRun | None:
        """A run by id, from memory or the database (call it off the loop)."""
        if run_id in self.live:
            return self.live[run_id]
        rows = self.database.query('SELECT * FROM sandbox_runs WHERE run_id = ?', (run_id,))
        return SandboxRun.from_row(rows[0]) if rows else None

    def history(self, owner: str, limit: int = 50) -> list[RunSummary]:
        """The person's runs, newest first (call it off the loop)."""
        rows = self.database.query(
            'SELECT run_id, runtime, title, summary, phase, created_at FROM sandbox_runs WHERE owner = ? '
            'ORDER BY created_at DESC LIMIT ?',
            (owner, limit),
        )
        return [RunSummary(**row) for row in rows]

    def subscribe(self, run_id: str, listener: RunListener) -> Callable[[], None]:
        """``listener(run, new output)`` after every change of the run; returns the unsubscribe."""
        self._listeners.setdefault(run_id, []).append(listener)

        def unsubscribe() -> None:
            listeners = self._listeners.get(run_id, [])
            if listener in listeners:
                listeners.remove(listener)
            if not listeners:
                self._listeners.pop(run_id, None)

        return unsubscribe

    def apply(self, job: Job, update: JobUpdate) -> None:
        """Folds one update of a run's job (a JobStore listener)."""
        if job.kind != KIND:
            return
        run = self.live.get(job.job_id)
        output = job.detail.pop('output', None)  # the job keeps no copy of the output: the run has it
        if run is None or run.phase == RunPhase.FINISHED:
            return
        chunk: list[Segment] = []
        if update.status in (JobStatus.RUNNING, JobStatus.HEARTBEAT, JobStatus.PROGRESS):
            if run.phase == RunPhase.QUEUED:
                run.phase, run.started_at = RunPhase.RUNNING, update.at
            if isinstance(output, list):
                chunk = run.output.extend([(str(stream), str(text)) for stream, text in output])
        elif update.status in FINISHED:
            result = (update.detail or {}).get('result')
            run.result = RunResult.from_dict(result) if isinstance(result, dict) else None
            run.phase, run.finished_at, run.message = RunPhase.FINISHED, update.at, job.message
            self._persist(run)
            self._forget_old(run)
        else:
            return
        for listener in list(self._listeners.get(run.run_id, [])):
            try:
                listener(run, chunk)
            except Exception:  # a page's mistake must not stop the others
                log.exception('a sandbox run listener failed')

    def _persist(self, run: SandboxRun) -> None:
        self.database.writer.upsert('sandbox_runs', 'run_id', run.row(), what=f'sandbox run {run.run_id}')

    def _forget_old(self, run: SandboxRun) -> None:
        self.database.writer.execute(
            'DELETE FROM sandbox_runs WHERE owner = ? AND run_id NOT IN '
            '(SELECT run_id FROM sandbox_runs WHERE owner = ? ORDER BY created_at DESC LIMIT ?)',
            (run.owner, run.owner, self.keep),
            what=f'the oldest sandbox runs of {run.username}',
        )
        finished = [key for key, live in self.live.items() if live.phase == RunPhase.FINISHED]
        for key in finished[: max(0, len(finished) - self.recent)]:
            if key not in self._listeners:
                del self.live[key]
