"""What the benches share with each other only: a container to work in, the machine facts and saving the figures.

Running the panel and Chromium is the test harness's (``tests/support``), shared with the end-to-end tests."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from tests.support import BUSYBOX, PROJECT_ROOT


def start_sleeper(name: str) -> None:
    """A busybox container that idles for an hour (killed at once on stop), for a bench to work in."""
    subprocess.run(
        [
            'docker',
            'run',
            '-d',
            '--name',
            name,
            '--label',
            'berth-bench=1',
            '--stop-signal',
            'KILL',
            BUSYBOX,
            'sleep',
            '3600',
        ],
        check=True,
        capture_output=True,
    )


def machine_facts(load_before: tuple[float, float, float]) -> dict[str, Any]:
    """What a saved result says of the machine: cores, platform, Python, load average before and after the run."""
    return {
        'cpus': os.cpu_count(),
        'platform': platform.platform(),
        'python': platform.python_version(),
        'load_average_1min_before_and_after': [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
    }


def save_results(path: Path, result: dict[str, Any]) -> None:
    """Writes a bench's figures as JSON next to the others and says where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + '\n')
    print(f'\nsaved to {path.relative_to(PROJECT_ROOT)}')
