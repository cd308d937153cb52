"""How compose reaches a stack's engine: the variables the Docker CLI reads, for one run.

``DOCKER_HOST`` is the endpoint's address. For mutual TLS, the sealed CA, client certificate and key are written to a
directory of their own (mode 0700, files 0600, memory-backed ``/dev/shm`` when there is one) for the length of the
run only, and named by ``DOCKER_CERT_PATH`` with ``DOCKER_TLS_VERIFY=1`` (compose checks the engine's certificate
against that CA). An SSH endpoint with a key of its own is refused: compose's ``ssh`` would use the process user's
keys and ``known_hosts`` instead of the ones stored for it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from core.docker.endpoint_spec import EndpointKind
from core.docker.endpoints import Endpoint


class ConnectionRefused(Exception):
    """Compose cannot reach this endpoint as it is stored; the message is a sentence."""


@contextlib.contextmanager
def compose_connection(endpoint: Endpoint) -> Iterator[dict[str, str]]:
    """The ``DOCKER_*`` variables for one compose run against ``endpoint``; TLS material is removed afterwards."""
    if endpoint.kind == EndpointKind.SSH and (endpoint.ssh_key or endpoint.known_hosts):
        raise ConnectionRefused(
            f'stacks on host "{endpoint.id}" cannot run yet: compose would not use the SSH key and host key stored '
            "for it (give the host without them, so the ssh client's own setup is used, or run a worker on it with "
            'its own socket)'
        )
    variables = {'DOCKER_HOST': endpoint.url} if endpoint.url else {}
    if endpoint.tls is None:
        yield variables
        return
    shm = Path('/dev/shm')
    folder = Path(tempfile.mkdtemp(prefix='berth-compose-tls-', dir=shm if shm.is_dir() else None))  # mode 0700
    try:
        for name, text in (('ca.pem', endpoint.tls.ca), ('cert.pem', endpoint.tls.cert), ('key.pem', endpoint.tls.key)):
            descriptor = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, 'w') as file:
                file.write(text)
        yield {**variables, 'DOCKER_TLS_VERIFY': '1', 'DOCKER_CERT_PATH': str(folder)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
