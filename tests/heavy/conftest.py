"""Images for the self-hosting tests, made locally (no registry is reachable) and kept between runs as a cache.

- ``berth-test/python-base:bookworm``: Debian bookworm with python3 and python3-venv (debootstrap + docker import),
  standing in for ``python:3.11-slim``; it trusts the same certificate authorities as this machine, so pip
  inside a build works where outgoing TLS is inspected.
- ``berth-test/redis:bookworm``: Debian's redis-server on that base, standing in for ``redis:7-alpine``.
- ``berth-test/berth:latest``: Berth's own Dockerfile built on that base, as ``docker compose build`` would.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.support import PROJECT_ROOT

PYTHON_BASE = 'berth-test/python-base:bookworm'
REDIS_IMAGE = 'berth-test/redis:bookworm'
BERTH_IMAGE = 'berth-test/berth:latest'
HOST_CA_BUNDLE = Path('/etc/ssl/certs/ca-certificates.crt')

# Like the official redis image, protected mode is off: the compose network is the boundary, not a password.
REDIS_DOCKERFILE = f"""\
FROM {PYTHON_BASE}
RUN apt-get update && apt-get install -y --no-install-recommends redis-server && rm -rf /var/lib/apt/lists/* \\
 && printf '#!/bin/sh\\nexec "$@" --protected-mode no\\n' > /usr/local/bin/redis-entrypoint \\
 && chmod 0755 /usr/local/bin/redis-entrypoint && mkdir -p /data
WORKDIR /data
ENTRYPOINT ["/usr/local/bin/redis-entrypoint"]
CMD ["redis-server"]
"""


def run(arguments: Sequence[str], *, timeout: float, input: bytes | None = None, **kwargs: Any) -> str:
    """Runs a command; on failure the assertion shows its output, so a broken build reads like one."""
    kwargs.setdefault('stderr', subprocess.PIPE)
    result = subprocess.run(
        list(arguments), check=False, input=input, stdout=subprocess.PIPE, timeout=timeout, **kwargs
    )
    output = (result.stdout + (result.stderr or b'')).decode(errors='replace')
    assert result.returncode == 0, f'{" ".join(arguments)} exited {result.returncode}:\n{output[-6000:]}'
    return result.stdout.decode(errors='replace')


def image_id(name: str) -> str | None:
    result = subprocess.run(
        ['docker', 'image', 'inspect', '--format', '{{.Id}}', name], check=False, capture_output=True, text=True
    )
    return result.stdout.strip() if result.returncode == 0 else None


def timed(label: str, started: float) -> None:
    print(f'[heavy] {label}: {time.monotonic() - started:.1f} s', flush=True)


@pytest.fixture(scope='session')
def python_base_image() -> str:
    if image_id(PYTHON_BASE):
        return PYTHON_BASE
    assert shutil.which('debootstrap'), 'debootstrap is missing: scripts/test-env.sh installs it (apt: debootstrap)'
    started = time.monotonic()
    rootfs = Path(tempfile.mkdtemp(prefix='berth-python-base-', dir='/tmp'))
    try:
        run(
            [
                'debootstrap',
                '--variant=minbase',
                '--include=python3,python3-venv,ca-certificates',
                'bookworm',
                str(rootfs),
                'http://deb.debian.org/debian',
            ],
            timeout=600,
        )
        for package in (rootfs / 'var/cache/apt/archives').glob('*.deb'):
            package.unlink()
        if HOST_CA_BUNDLE.is_file():  # this machine's trust, including a TLS-inspecting proxy's authority if any
            shutil.copyfile(HOST_CA_BUNDLE, rootfs / 'etc/ssl/certs/ca-certificates.crt')
        tar = subprocess.Popen(['tar', '-C', str(rootfs), '-c', '.'], stdout=subprocess.PIPE)
        run(
            [
                'docker',
                'import',
                '-c',
                'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
                '-c',
                'ENV LANG=C.UTF-8',
                '-c',
                'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt',
                '-c',
                'CMD ["/bin/bash"]',
                '-',
                PYTHON_BASE,
            ],
            stdin=tar.stdout,
            timeout=300,
        )
        assert tar.wait(timeout=60) == 0
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)
    timed(f'built {PYTHON_BASE}', started)
    return PYTHON_BASE


@pytest.fixture(scope='session')
def redis_image(python_base_image: str) -> str:
    if not image_id(REDIS_IMAGE):
        started = time.monotonic()
        run(['docker', 'build', '-t', REDIS_IMAGE, '-'], input=REDIS_DOCKERFILE.encode(), timeout=600)
        timed(f'built {REDIS_IMAGE}', started)
    return REDIS_IMAGE


@pytest.fixture(scope='session')
def berth_image(python_base_image: str) -> str:
    """Always rebuilt from the work tree; the dependency layer stays cached while requirements.txt is unchanged."""
    started, previous = time.monotonic(), image_id(BERTH_IMAGE)
    run(
        ['docker', 'build', '--build-arg', f'BASE_IMAGE={python_base_image}', '-t', BERTH_IMAGE, str(PROJECT_ROOT)],
        timeout=900,
    )
    if previous not in (None, image_id(BERTH_IMAGE)):  # the build it replaced; refused harmlessly while still in use
        subprocess.run(['docker', 'rmi', previous], check=False, capture_output=True)
    timed(f'built {BERTH_IMAGE}', started)
    return BERTH_IMAGE


@pytest.fixture(scope='session')
def compose_command() -> list[str]:
    """The Compose v2 plugin when the docker CLI has it, else a standalone docker-compose (Debian's is v1.29)."""
    for command in (['docker', 'compose'], ['docker-compose']):
        if not shutil.which(command[0]):
            continue
        if subprocess.run([*command, 'version'], check=False, capture_output=True).returncode == 0:
            return command
    pytest.fail('neither `docker compose` nor `docker-compose` works: scripts/test-env.sh installs docker-compose')
