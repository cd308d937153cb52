"""The burst part of bench/load.py: ``--jobs`` jobs at once, with the embedded worker and on Redis with a
`dramatiq tasks` worker; /healthz and the job centre while they run.

A fresh panel per mode (on Redis: ``REDIS_URL`` = ``--redis-url``, whose database is emptied first, and one `dramatiq
tasks` worker with ``--worker-threads`` threads sharing the panel's secret key), ``--job-containers`` running busybox
sleepers selected on an admin's /containers, and a second admin tab on /jobs (the job centre, open and live while the
jobs run). The burst is "Start selected" (``--burst-action start``: the whole job path — dispatch, audit, queue, actor,
updates over the bus — with next to no work for the engine; or ``restart``) clicked ``--jobs / --job-containers``
times at once; clicks lost while the page's socket was down are clicked again when the count of jobs stands still
(as bench/loop.py does). Probes, from the first click until the last job finished: GET /healthz, and GET /jobs with
the admin's session cookie (the panel builds the whole job centre page), each every ``--probe-every`` s on a new
connection; the panel's CPU and RSS.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import redis
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, async_playwright

from bench.common import latency_summary
from bench.load_fleet import PREFIX, run_sleeper
from bench.loop import JobCounter, Sampler, dispatch_burst, healthz_probe, select_for_jobs
from bench.panel_process import UsageSampler, probe_environment, reset_probe
from tests.support.browser import launch_chromium, signed_in_page
from tests.support.panel import Panel
from tests.support.worker import dramatiq_worker

BURST_PREFIX = f'{PREFIX}burst-'


@contextlib.contextmanager
def job_backend(mode: str, arguments: Any) -> Iterator[dict[str, str]]:
    """The panel's environment for ``mode``; on Redis, with the worker running meanwhile."""
    if mode == 'embedded':
        yield {}
        return
    redis.Redis.from_url(arguments.redis_url).flushdb()
    environment = {'REDIS_URL': arguments.redis_url, 'BERTH_SECRET_KEY': secrets.token_urlsafe(24)}
    with (
        tempfile.TemporaryDirectory(prefix='berth-bench-worker-') as data_dir,
        dramatiq_worker(threads=arguments.worker_threads, BERTH_DATA_DIR=data_dir, **environment),
    ):
        yield environment


async def measure_burst(mode: str, arguments: Any) -> dict[str, Any]:
    containers = [f'{BURST_PREFIX}{index}' for index in range(arguments.job_containers)]
    loop_probe = probe_environment(arguments.loop_probe, f'burst-{mode}')
    for name in containers:
        run_sleeper(name)
    try:
        with (
            job_backend(mode, arguments) as environment,
            Panel(env=environment | loop_probe, root=arguments.panel_root) as panel,
        ):
            panel.wait_healthy(30, min_containers=len(containers))
            try:
                return await run_burst(panel, mode, arguments, loop_probe)
            except Exception:
                print(f'panel log (tail):\n{panel.log()[-5000:]}')
                raise
    finally:
        subprocess.run(['docker', 'rm', '-f', *containers], check=False, capture_output=True)


async def run_burst(panel: Panel, mode: str, arguments: Any, loop_probe: dict[str, str]) -> dict[str, Any]:
    pid = panel.process.pid if panel.process else 0
    counter = JobCounter(panel, 'sqlite', arguments.burst_action)
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        try:
            page = await signed_in_page(browser, panel.base_url)
            await select_for_jobs(page, BURST_PREFIX, arguments.job_containers)
            if arguments.job_centre_tab:
                job_centre = await page.context.new_page()
                await job_centre.goto('/jobs')
            cookie = '; '.join(f'{item["name"]}={item["value"]}' for item in await page.context.cookies())
            probes = [
                Sampler(healthz_probe(panel.base_url), arguments.probe_every),
                Sampler(page_probe(f'{panel.base_url}/jobs', cookie), arguments.job_page_every),
            ]
            for probe in probes:
                probe.start()
            reset_probe(loop_probe)
            usage = UsageSampler(pid).start()
            print(f'  [{mode}] {arguments.jobs} jobs', flush=True)
            started = time.monotonic()
            jobs = await burst(page, counter, arguments)
            ended = time.monotonic()
            window = usage.stop()
            for probe in probes:
                probe.stop()
        finally:
            await browser.close()
    healthz, job_page = (latency_summary(probe.between(started, ended)) for probe in probes)
    return {
        'jobs': jobs,
        'healthz_ms': healthz,
        'job_centre_page_ms': job_page,
        'panel': window,
        'goals': {'all_finished': True, 'healthz_and_job_centre_p99_ms_below': 100},
    }


def page_probe(url: str, cookie: str) -> Callable[[], None]:
    def probe() -> None:
        request = urllib.request.Request(url, headers={'Cookie': cookie})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        if b'Jobs' not in body:
            raise RuntimeError('GET /jobs did not answer with the job centre')

    return probe


async def burst(page: Page, counter: JobCounter, arguments: Any) -> dict[str, Any]:
    """Dispatches the jobs and waits until they (and those before) have all finished."""
    before, _ = await asyncio.to_thread(counter.count)
    expected = before + arguments.jobs
    clicks = arguments.jobs // arguments.job_containers
    dispatched = time.monotonic()
    await dispatch_burst(page, arguments.burst_action, clicks)
    total, finished, changed_at, resent = before, before, time.monotonic(), 0
    deadline = dispatched + arguments.max_burst_seconds
    while finished < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        now_total, finished = await asyncio.to_thread(counter.count)
        if now_total != total:
            total, changed_at = now_total, time.monotonic()
        elif total < expected and time.monotonic() - changed_at > 5:
            with contextlib.suppress(PlaywrightError):
                if resent:
                    await page.reload()
                await select_for_jobs(page, BURST_PREFIX, arguments.job_containers)
                missing = (expected - total) // arguments.job_containers
                await dispatch_burst(page, arguments.burst_action, missing)
                resent += missing
            changed_at = time.monotonic()
    return {
        'dispatched': total - before,
        'finished': finished - before,
        'seconds': round(time.monotonic() - dispatched, 1),
        'clicks_resent': resent,
    }


def print_burst(results: dict[str, dict[str, Any]]) -> None:
    print('\nburst (ms: p50 / p99 / max)')
    for mode, result in results.items():
        jobs, healthz, page = result['jobs'], result['healthz_ms'], result['job_centre_page_ms']
        print(
            f'  {mode:<9} {jobs["finished"]}/{jobs["dispatched"]} jobs in {jobs["seconds"]} s'
            f' ({jobs["clicks_resent"]} clicks resent); /healthz {cell(healthz)}; /jobs {cell(page)}; '
            f'CPU {result["panel"]["cpu_percent_of_one_core"]} %, RSS peak {result["panel"]["rss_mb_peak"]} MB'
        )


def cell(summary: dict[str, float]) -> str:
    if not summary.get('n'):
        return '-'
    return f'{summary["p50_ms"]:.1f} / {summary["p99_ms"]:.0f} / {summary["max_ms"]:.0f} (n {summary["n"]})'
