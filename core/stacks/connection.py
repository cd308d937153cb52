"""How compose reaches a stack's engine: the variables the Docker CLI reads, for one run.

``DOCKER_HOST`` is the endpoint's address. For mutual TLS, the sealed CA, client certificate and key are written to a
directory of their own (mode 0700, files 0600, memory-backed ``/dev/shm`` when there is one) for the length of the
run only, and named by ``DOCKER_CERT_PATH`` with ``DOCKER_TLS_VERIFY=1`` (compose checks the engine's certificate
against that CA). For SSH, compose (the Docker CLI's connection helper) runs ``ssh`` from the ``PATH``: a directory of
the same kind holds an ``ssh`` of its own, first on the ``PATH``, that runs the real client with the options the panel
uses for that endpoint (the stored key only, the stored host key only, never a prompt).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from core.docker.client import ssh_options
from core.docker.endpoint_spec import EndpointKind
from core.docker.endpoints import Endpoint

SSH_CONNECT_SECONDS = 30


class ConnectionRefused(Exception):
    """Compose cannot reach this endpoint as it is stored; the message is a sentence."""


@contextlib.contextmanager
def compose_connection(endpoint: Endpoint) -> Iterator[dict[str, str]]:
    """The ``DOCKER_*`` variables for one compose run against ``endpoint``; TLS material is removed afterwards."""
    variables = {'DOCKER_HOST': endpoint.url} if endpoint.url else {}
    if endpoint.kind == EndpointKind.SSH:
        with _private_folder('ssh') as folder:
            yield {**variables, 'PATH': _ssh_path(folder, endpoint)}
        return
    if endpoint.tls is None:
        yield variables
        return
    with _private_folder('tls') as folder:
        for name, text in (('ca.pem', endpoint.tls.ca), ('cert.pem', endpoint.tls.cert), ('key.pem', endpoint.tls.key)):
            _write(folder / name, text, 0o600)
        yield {**variables, 'DOCKER_TLS_VERIFY': '1', 'DOCKER_CERT_PATH': str(folder)}


@contextlib.contextmanager
def _private_folder(kind: str) -> Iterator[Path]:
    """A directory of mode 0700 (memory-backed when ``/dev/shm`` exists), removed with what it holds afterwards."""
    shm = Path('/dev/shm')
    folder = Path(tempfile.mkdtemp(prefix=f'berth-compose-{kind}-', dir=shm if shm.is_dir() else None))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _write(path: Path, text: str, mode: int) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, 'w') as file:
        file.write(text)


def _ssh_path(folder: Path, endpoint: Endpoint) -> str:
    """The ``PATH`` for compose: ``folder`` first, holding an ``ssh`` that runs the real one with the endpoint's own
    options; a sentence when there is no ``ssh`` client."""
    search = os.environ.get('PATH') or '/usr/local/bin:/usr/bin:/bin'
    real = shutil.which('ssh', path=search)
    if real is None:
        raise ConnectionRefused(f'stacks on host "{endpoint.id}" need the ssh client, and there is none on the PATH')
    options = ssh_options(SSH_CONNECT_SECONDS, endpoint.ssh_key, endpoint.known_hosts)
    _write(folder / 'ssh', f'#!/bin/sh\nexec {shlex.join([real, *options])} "$@"\n', 0o700)
    return f'{folder}:{search}'
