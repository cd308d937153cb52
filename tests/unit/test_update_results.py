"""The panel's record of update checks (core/updates/results.py) and the schedule (core/updates/schedule.py): results
from a check job's last update, decided against the live state, cleared when the image changes, kept in the table."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.jobs.store import JobStatus, JobStore, JobUpdate
from core.state.containers import ContainerRow
from core.state.images import ImageRow
from core.state.model import DockerState
from core.storage.sqlite import SQLiteDatabase
from core.updates.check import KIND, UpdateResult, UpdateStatus
from core.updates.results import UpdateResults
from core.updates.schedule import UpdateSchedule

OLD, NEW, OTHER = ('sha256:' + letter * 64 for letter in 'abc')
APP = '127.0.0.1:5000/team/app'
REFERENCE = f'{APP}:1'
IMAGE_X, IMAGE_Y = 'sha256:' + '1' * 64, 'sha256:' + '2' * 64


@pytest.fixture
def database(tmp_path: Path) -> SQLiteDatabase:
    return SQLiteDatabase(tmp_path / 'berth.sqlite3')


@pytest.fixture
def state() -> DockerState:
    """Image X tagged app:1 (pulled as OLD), a container running it, and busybox built here (no repo digest)."""
    state = DockerState()
    state.replace_images(
        [
            ImageRow(id=IMAGE_X, tags=[REFERENCE], digests=[f'{APP}@{OLD}']),
            ImageRow(id='sha256:' + '3' * 64, tags=['berth-test/busybox:latest']),
        ]
    )
    state.replace_all([ContainerRow(id='c1', name='web', image=REFERENCE, state='running', image_id=IMAGE_X)])
    return state


def checked(remote: str, at: float = 1000.0) -> UpdateResult:
    """What a worker found for app:1 while the tag named image X (pulled as OLD): the registry names ``remote``."""
    return UpdateResult(
        reference=REFERENCE,
        status=UpdateStatus.AVAILABLE if remote != OLD else UpdateStatus.CURRENT,
        remote_digest=remote,
        image_id=IMAGE_X,
        local_digests=[f'{APP}@{OLD}'],
        checked_at=at,
    )


def finished_check(
    remote: str, *, job_id: str = 'job-1', status: str = JobStatus.SUCCEEDED, at: float = 1000.0
) -> JobUpdate:
    detail = {'results': [checked(remote, at).to_dict()]}
    return JobUpdate(job_id=job_id, status=status, kind=KIND, target='local', detail=detail)


def test_a_finished_check_is_folded_in_decided_against_the_live_state_and_announced(
    database: SQLiteDatabase, state: DockerState
) -> None:
    results = UpdateResults(database, state)
    jobs = JobStore(database)
    jobs.subscribe(results.on_job)
    heard: list[tuple[str, frozenset[str]]] = []
    results.subscribe(lambda endpoint, references: heard.append((endpoint, references)))
    assert results.available('local', REFERENCE) is None  # never checked
    jobs.apply(JobUpdate(job_id='job-1', status=JobStatus.QUEUED, kind=KIND, target='local'))
    assert results.checking('local')
    jobs.apply(finished_check(NEW))
    assert not results.checking('local')
    assert heard[-1] == ('local', frozenset({REFERENCE}))
    assert results.available('local', REFERENCE) is True
    assert results.available('local', 'docker.io/' + REFERENCE.split('/', 1)[1]) is None  # another registry
    assert results.available('local', REFERENCE, image_id=IMAGE_X) is True  # what the container runs
    info = results.status('local', REFERENCE)
    assert info is not None and (info.remote_digest, info.checked_at) == (NEW, 1000.0)
    # a failed check brings no results
    jobs.apply(finished_check(OLD, job_id='job-2', status=JobStatus.FAILED))
    assert results.available('local', REFERENCE) is True


def test_a_pull_of_what_the_registry_names_clears_the_badge_of_the_reference_not_of_the_old_container(
    database: SQLiteDatabase, state: DockerState
) -> None:
    results = UpdateResults(database, state)
    results.record('local', [checked(NEW)])
    heard: list[frozenset[str]] = []
    results.subscribe(lambda endpoint, references: heard.append(references))
    # When the tag moves to image Y, pulled as the registry's NEW (the watcher's image event)
    state.upsert_image(ImageRow(id=IMAGE_Y, tags=[REFERENCE], digests=[f'{APP}@{NEW}']))
    # Then the reference is up to date, and the listeners heard of it; the container still runs X: its badge stays
    assert heard and REFERENCE in heard[-1]
    assert results.available('local', REFERENCE) is False
    assert results.available('local', REFERENCE, image_id=IMAGE_X) is True
    assert results.available('local', REFERENCE, image_id=IMAGE_Y) is False  # recreated from the new image
    # And the table keeps the kept answer for the next start
    again = UpdateResults(database, state)
    assert again.available('local', REFERENCE) is False
    assert again.status('local', REFERENCE).checked_at == 1000.0  # type: ignore[union-attr]


def test_a_tag_moved_to_an_image_the_registry_does_not_name_clears_the_answer(
    database: SQLiteDatabase, state: DockerState
) -> None:
    results = UpdateResults(database, state)
    results.record('local', [checked(NEW)])
    assert results.due('local', max_age=3600, now=1000.0 + 60) == []
    # When the tag is moved to an image pulled as OTHER (the registry named NEW)
    state.upsert_image(ImageRow(id=IMAGE_Y, tags=[REFERENCE], digests=[f'{APP}@{OTHER}']))
    # Then the cached answer is gone (not known, from memory and from the table), and the reference is due again
    assert results.status('local', REFERENCE) is None
    assert results.due('local', max_age=3600, now=1000.0 + 60) == [REFERENCE]
    assert UpdateResults(database, state).status('local', REFERENCE) is None


def test_an_unrelated_image_change_keeps_the_answer(database: SQLiteDatabase, state: DockerState) -> None:
    results = UpdateResults(database, state)
    results.record('local', [checked(NEW)])
    state.upsert_image(ImageRow(id=IMAGE_Y, tags=['something/else:1'], digests=[f'something/else@{OTHER}']))
    assert results.available('local', REFERENCE) is True


def test_local_only_and_pinned_references_are_never_an_update(database: SQLiteDatabase, state: DockerState) -> None:
    results = UpdateResults(database, state)
    results.record(
        'local',
        [
            UpdateResult(reference='berth-test/busybox:latest', status=UpdateStatus.LOCAL, checked_at=1000.0),
            UpdateResult(reference=f'{APP}@{OLD}', status=UpdateStatus.PINNED, checked_at=1000.0),
        ],
    )
    assert results.available('local', 'berth-test/busybox') is None
    assert results.available('local', f'{APP}@{OLD}') is None


async def test_the_schedule_dispatches_what_is_due_once_at_a_time(database: SQLiteDatabase, state: DockerState) -> None:
    results = UpdateResults(database, state)
    jobs = JobStore(database)
    jobs.subscribe(results.on_job)
    dispatched: list[tuple[str, list[str]]] = []

    async def dispatch(endpoint: str, references: list[str]) -> None:
        dispatched.append((endpoint, references))
        jobs.apply(JobUpdate(job_id=f'job-{len(dispatched)}', status=JobStatus.QUEUED, kind=KIND, target=endpoint))

    schedule = UpdateSchedule(results, dispatch, minutes=60, endpoints=lambda: ['local'])
    assert schedule.look_seconds == 60
    assert await schedule.look() == 1
    assert dispatched == [('local', [REFERENCE])]
    assert await schedule.look() == 0  # the check is still queued: no second one
    jobs.apply(finished_check(NEW, at=time.time()))
    assert await schedule.look() == 0  # answered within the interval
    assert results.due('local', 3600, now=time.time() + 3600) == [REFERENCE]  # and due again after it
    off = UpdateSchedule(results, dispatch, minutes=0, endpoints=lambda: ['local'])
    off.start()
    assert not off.running  # BERTH_UPDATE_CHECK_MINUTES=0: no schedule at all
