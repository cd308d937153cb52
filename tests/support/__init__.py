"""The test harness, shared by the tests and ``bench/``: plain code without pytest, so a bench can import it too.

- ``eventually``: the one helper that waits for a condition (async and sync);
- ``panel``: Berth as a subprocess on a free port; ``browser``: headless Chromium and signing in with it;
- ``registry``: a local image registry and a throttling proxy; ``socket_proxy`` / ``counting_proxy``: unix
  sockets in front of the Docker socket (one that can be cut, one that counts connections);
- ``engine``: a Docker Engine of a test's own; ``worker``: a Dramatiq worker process; ``busy``: a container spinning
  a shell loop (the stats tests and bench).

Fixtures stay in the ``conftest.py`` files and call into these modules.
"""

from __future__ import annotations

import socket
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
BUSYBOX = 'berth-test/busybox:latest'  # made by scripts/test-env.sh from the host's busybox


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return int(probe.getsockname()[1])
