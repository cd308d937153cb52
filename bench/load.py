"""Load, soak and burst: many people on the containers page while containers change; pages, terminals and log follows
opened and closed by the hundred; a thousand jobs at once, embedded and on Redis.

    python bench/load.py [--parts load soak burst] [--clients 50] [--browsers 5] [--containers 500] [--changing 20]
                         [--rate 5] [--seconds 60] [--opens 1000] [--terminals 200] [--logs 200] [--jobs 1000]
                         [--modes embedded redis] [--redis-url redis://127.0.0.1:6379/11] [--output PATH]

A short run: ``--clients 5 --browsers 1 --containers 50 --seconds 15 --opens 50 --terminals 10 --logs 10 --jobs 80``.
Each part starts its own panel (bench/load_people.py, bench/load_soak.py, bench/load_burst.py say what they measure).
Containers carry the labels ``berth-bench=1`` and ``berth-bench-kind=load`` and names starting with ``zzbld-``; they
are removed at the end, also after a failure or Ctrl-C. Results go to bench/results/load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import docker

from bench.common import machine_facts, save_results
from bench.load_burst import measure_burst, print_burst
from bench.load_fleet import Fleet, remove_all
from bench.load_people import measure_load, print_load
from bench.load_soak import measure_soak, print_soak
from tests.support import PROJECT_ROOT

RESULTS = PROJECT_ROOT / 'bench' / 'results' / 'load.json'
PARTS = ('load', 'soak', 'burst')


def arguments_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or '').split('\n\n')[0])
    parser.add_argument('--parts', nargs='+', choices=PARTS, default=list(PARTS))
    parser.add_argument('--output', type=Path, default=RESULTS)
    parser.add_argument('--short', action='store_true', help='mark the figures as those of a short run')
    parser.add_argument(
        '--loop-probe',
        type=Path,
        help="a directory: time the panel's event-loop callbacks and lag (bench/loop_probe), one JSON file a part",
    )
    parser.add_argument(
        '--panel-root', type=Path, default=PROJECT_ROOT, help='run the panel from another checkout, to compare a change'
    )
    load = parser.add_argument_group('load')
    load.add_argument('--clients', type=int, default=50, help='Socket.IO clients on /containers')
    load.add_argument('--browsers', type=int, default=5, help='headless Chromium browsers on /containers')
    load.add_argument('--containers', type=int, default=500)
    load.add_argument('--changing', type=int, default=20, help='containers paused and unpaused in turn')
    load.add_argument('--rate', type=float, default=5.0, help='changes per second')
    load.add_argument('--seconds', type=float, default=60.0, help='how long the containers change')
    soak = parser.add_argument_group('soak')
    soak.add_argument('--opens', type=int, default=1000, help='page opens and closes')
    soak.add_argument('--terminals', type=int, default=200)
    soak.add_argument('--logs', type=int, default=200, help='log follows')
    soak.add_argument('--soak-people', type=int, default=4, help='accounts (viewers for pages, operators for streams)')
    soak.add_argument('--dwell', type=float, default=0.3, help='seconds each opened page stays connected')
    soak.add_argument('--settle', type=float, default=60.0, help='longest wait for the counts to come back')
    burst = parser.add_argument_group('burst')
    burst.add_argument('--jobs', type=int, default=1000)
    burst.add_argument('--job-containers', type=int, default=8)
    burst.add_argument('--burst-action', choices=['start', 'restart'], default='start')
    burst.add_argument('--modes', nargs='+', choices=['embedded', 'redis'], default=['embedded', 'redis'])
    burst.add_argument('--redis-url', default='redis://127.0.0.1:6379/11', help='its database is emptied first')
    burst.add_argument('--worker-threads', type=int, default=8)
    burst.add_argument('--probe-every', type=float, default=0.05, help='seconds between /healthz probes')
    burst.add_argument('--job-page-every', type=float, default=0.5, help='seconds between GET /jobs probes')
    burst.add_argument('--no-job-centre-tab', dest='job_centre_tab', action='store_false', help='no tab on /jobs')
    burst.add_argument('--max-burst-seconds', type=float, default=600)
    return parser


async def run(arguments: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()
    client = docker.DockerClient(base_url='unix:///var/run/docker.sock', timeout=120)
    result: dict[str, Any] = {}
    remove_all(client)  # leftovers of an interrupted run
    try:
        if 'load' in arguments.parts:
            started = time.monotonic()
            fleet = Fleet(client, arguments.containers, min(arguments.changing, arguments.containers))
            await asyncio.to_thread(fleet.make)
            print(f'load: {arguments.containers} containers made in {time.monotonic() - started:.1f} s', flush=True)
            result['load'] = await measure_load(client, fleet, arguments)
            print_load(result['load'])
            await asyncio.to_thread(remove_all, client)
        if 'soak' in arguments.parts:
            print('soak', flush=True)
            result['soak'] = await measure_soak(arguments)
            print_soak(result['soak'])
        if 'burst' in arguments.parts:
            if arguments.jobs % arguments.job_containers:
                raise SystemExit('--jobs must be a multiple of --job-containers (one click acts on each of them once)')
            result['burst'] = {mode: await measure_burst(mode, arguments) for mode in arguments.modes}
            print_burst(result['burst'])
    finally:
        remove_all(client)
    facts = {
        'measured_at': datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds'),
        'machine': machine_facts(load_before),
        'short_run': arguments.short,
    }
    return {part: {**facts, **figures} for part, figures in result.items()}


def main() -> None:
    arguments = arguments_parser().parse_args()
    result = asyncio.run(run(arguments))
    saved = json.loads(arguments.output.read_text()) if arguments.output.exists() else {}
    save_results(arguments.output, {**saved, **result})  # the parts not run this time are kept


if __name__ == '__main__':
    main()
