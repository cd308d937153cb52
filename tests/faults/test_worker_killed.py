"""A worker killed mid-job (SIGKILL) and a new one started: the job ends lost, with a sentence; the broker's redelivery
of the message the dead worker held does not run it again; the lost job stays lost."""

from __future__ import annotations

import time
from collections.abc import Callable

from core.jobs.reconcile import LOST
from tests.support.engine import OwnEngine
from tests.support.eventually import eventually_sync
from tests.support.panel import Panel
from tests.support.redis_server import OwnRedis
from tests.support.worker import WorkerProcess

from .conftest import LOST_AFTER, engine_events
from .harness import ChannelRecorder, SecondPanel, panel_jobs, queue_holds, redeliver_from_dead_workers


def test_a_killed_workers_job_ends_lost_and_its_redelivery_never_runs_it(
    engine: OwnEngine,
    own_redis: OwnRedis,
    redis_panel: Panel,
    worker: WorkerProcess,
    container: Callable[..., tuple[str, str]],
) -> None:
    # Given a container whose restart takes 8 s (sleep as PID 1 ignores SIGTERM), and the job restarting it running
    container_id, name = container()
    recorder = ChannelRecorder(own_redis.url).start()
    queue = SecondPanel(own_redis.url, redis_panel.data_dir)
    since = str(int(time.time()))
    job_id = queue.container_action('restart', container_id, name, {'timeout': 8})
    eventually_sync(lambda: recorder.of(job_id, 'running'), 30, lambda: f'the job running:\n{worker.log()}')
    # and the restart under way on the engine (its SIGTERM sent): the worker looks at the host before it asks
    eventually_sync(lambda: engine_events(engine, container_id, 'kill', since) >= 1, 30, worker.log)

    # When the worker is killed mid-job
    worker.kill()

    # Then the panel ends the job as lost, with a sentence, once its worker has been silent long enough
    def ended() -> bool:
        row = panel_jobs(redis_panel.data_dir).get(job_id)
        return bool(row and row['status'] == 'failed')

    eventually_sync(ended, LOST_AFTER + 20, lambda: f'the job lost: {panel_jobs(redis_panel.data_dir).get(job_id)}')
    assert panel_jobs(redis_panel.data_dir)[job_id]['message'] == LOST

    # When a new worker starts and the broker hands it the message the dead worker never acknowledged
    assert queue_holds(own_redis.url, job_id)
    worker.start()

    def redelivered_and_acknowledged() -> bool:
        redeliver_from_dead_workers(own_redis.url, silent_for_ms=3000)
        return not queue_holds(own_redis.url, job_id)

    eventually_sync(redelivered_and_acknowledged, 30, lambda: f'the message taken again:\n{worker.log()}')

    # Then it did not run again: one "running", one restart on the engine, and the job is still lost
    eventually_sync(lambda: 'not running a job again' in worker.log(), 10, worker.log)  # its log comes through a pipe
    assert len(recorder.of(job_id, 'running')) == 1, [update.status for update in recorder.of(job_id)]
    assert engine_events(engine, container_id, 'restart', since) == 1
    row = panel_jobs(redis_panel.data_dir)[job_id]
    assert (row['status'], row['message']) == ('failed', LOST)
    # nothing is left running or queued
    assert not [row for row in panel_jobs(redis_panel.data_dir).values() if row['status'] in ('queued', 'running')]
    recorder.stop()
    queue.close()
