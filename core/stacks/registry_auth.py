"""Registry credentials for one compose run: the saved credentials of the registries a stack's images come from, as
compose reads them — a ``config.json`` with ``auths`` in a ``DOCKER_CONFIG`` directory of the run's own.

The panel seals the credentials it saved for those registries into the job (:meth:`RegistryCredentials.seal_for_job`);
the worker opens them and writes them here: a directory of mode 0700 (memory-backed ``/dev/shm`` when there is one),
the file 0600, removed when the run ends. Nothing of it reaches the job log or the audit (which keeps the registries'
names only).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from core.docker.reference import DOCKER_HUB_NAMES, InvalidReference, parse_reference

DOCKER_HUB_AUTH = 'https://index.docker.io/v1/'  # the key the Docker CLI (and compose) looks Docker Hub up under


def image_registries(config: Mapping[str, Any]) -> list[str]:
    """The registries (as credentials are saved: '127.0.0.1:5000', 'docker.io') the normalised file's images come
    from; images that do not parse are left to compose to complain about."""
    registries = set()
    for service in (config.get('services') or {}).values():
        image = (service or {}).get('image') if isinstance(service, dict) else None
        if not image:
            continue
        try:
            registries.add(parse_reference(str(image)).registry_key)
        except InvalidReference:
            continue
    return sorted(registries)


def auths(credentials: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """``config.json``'s ``auths``: registry → ``{"auth": base64("user:password")}``."""
    found = {}
    for registry, credential in sorted(credentials.items()):
        token = f'{credential.get("username", "")}:{credential.get("password", "")}'
        key = DOCKER_HUB_AUTH if registry in DOCKER_HUB_NAMES else registry
        found[key] = {'auth': base64.b64encode(token.encode()).decode()}
    return found


@contextlib.contextmanager
def docker_config(credentials: Mapping[str, Mapping[str, str]]) -> Iterator[Path]:
    """A ``DOCKER_CONFIG`` directory for one run holding ``credentials`` (registry → username and password) and
    nothing else of anyone's (no credential helpers); removed afterwards."""
    shm = Path('/dev/shm')
    folder = Path(tempfile.mkdtemp(prefix='berth-compose-config-', dir=shm if shm.is_dir() else None))  # mode 0700
    try:
        descriptor = os.open(folder / 'config.json', os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, 'w') as file:
            json.dump({'auths': auths(credentials)}, file)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
