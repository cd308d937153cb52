"""Two panel processes' worth of services on one Redis (and one database), one worker: a job queued in one panel
reaches the other's job store, which is what its notifier and job centre show; its end is audited once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from core.jobs.store import Job, JobStatus, JobUpdate
from core.permissions import LOCAL_ENDPOINT
from core.settings import Settings
from system import build
from tests.support.eventually import eventually
from tests.support.worker import dramatiq_worker

from .conftest import OPERATOR


async def test_a_job_queued_in_one_panel_is_finished_in_the_other_and_audited_once(
    tmp_path: Path, redis_url: str, make_container: Callable[..., str]
) -> None:
    settings = Settings(data_dir=tmp_path / 'data', redis_url=redis_url, secret_key='bho-two-panels')
    first, second = build(settings), build(settings)
    await first.start()
    await second.start()
    heard: list[tuple[str, str]] = []

    def on_job(job: Job, update: JobUpdate) -> None:
        heard.append((job.job_id, update.status))

    second.jobs.subscribe(on_job)  # what the second panel's notifier and job centre listen to
    try:
        name = make_container(name='bho-two-panels')
        await eventually(lambda: first.state.find(name, LOCAL_ENDPOINT) is not None, what='the container known')
        row = first.state.find(name, LOCAL_ENDPOINT)
        assert row is not None
        with dramatiq_worker(
            REDIS_URL=redis_url, BERTH_SECRET_KEY='bho-two-panels', BERTH_DATA_DIR=str(tmp_path / 'w')
        ):
            # When a job is queued in the first panel
            job = await first.commands.container_action(OPERATOR, 'kill', row.id)
            # Then the second panel hears of it, to its end, like its own
            await eventually(lambda: (job.job_id, JobStatus.SUCCEEDED) in heard, timeout=60, what='the other panel')
            assert second.jobs.jobs[job.job_id].target_name == name
            assert second.jobs.jobs[job.job_id].requested_by == OPERATOR.username
            await eventually(lambda: first.jobs.jobs[job.job_id].status == JobStatus.SUCCEEDED, timeout=30)
        # And its end is in the shared audit log once, not once per panel
        ends = [
            entry
            for entry in first.audit.entries(action='container.kill')
            if job.job_id in entry.params and entry.result.startswith('succeeded')
        ]
        assert len(ends) == 1
    finally:
        await second.stop()
        await first.stop()
