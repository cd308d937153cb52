"""TLS material and SSH keys as the files docker-py, ``requests`` and ``ssh`` insist on: written once per content into
a directory only this process's user can read (memory-backed ``/dev/shm`` when there is one), removed when the process
ends."""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path

from core.docker.endpoint_spec import TlsMaterial

_lock = threading.Lock()
_root: Path | None = None
_written: dict[str, tuple[str, str, str]] = {}


def tls_files(material: TlsMaterial) -> tuple[str, str, str]:
    """Paths of the CA, client certificate and client key (mode 0600) for ``material``."""
    digest = hashlib.sha256('\0'.join((material.ca, material.cert, material.key)).encode()).hexdigest()[:24]
    with _lock:
        paths = _written.get(digest)
        if paths is None:
            folder = _private_root() / digest
            folder.mkdir(mode=0o700, exist_ok=True)
            paths = _written[digest] = (
                _write(folder / 'ca.pem', material.ca),
                _write(folder / 'cert.pem', material.cert),
                _write(folder / 'key.pem', material.key),
            )
        return paths


def _private_root() -> Path:
    global _root
    if _root is None:
        shm = Path('/dev/shm')
        _root = Path(tempfile.mkdtemp(prefix='berth-tls-', dir=shm if shm.is_dir() else None))
        atexit.register(shutil.rmtree, _root, True)
    return _root


def _write(path: Path, text: str) -> str:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, 'w') as file:
        file.write(text)
    return str(path)


def secret_file(text: str, name: str) -> str:
    """The path of a 0600 file holding ``text`` (an SSH key, a known_hosts line)."""
    digest = hashlib.sha256(f'{name}\0{text}'.encode()).hexdigest()[:24]
    with _lock:
        paths = _written.get(digest)
        if paths is None:
            folder = _private_root() / digest
            folder.mkdir(mode=0o700, exist_ok=True)
            path = _write(folder / name, text if text.endswith('\n') else text + '\n')
            paths = _written[digest] = (path, path, path)
        return paths[0]
