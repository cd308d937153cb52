"""Registry credentials: sealed with Fernet for the trip to a worker, and stored (only when asked) encrypted at rest.

The key is ``BERTH_SECRET_KEY`` when set, else a key file generated once in ``BERTH_DATA_DIR`` (mode 0600).
Workers on other machines need the same ``BERTH_SECRET_KEY`` (or the same data dir) to open what the panel sealed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from core.jobs.seal import JobSigner
from core.settings import Settings
from core.storage.database import Database

KEY_FILE = 'secret.key'
TRANSIT_SECONDS = 24 * 3600


class SecretError(Exception):
    """A sealed value that cannot be opened (other key, tampered, expired); the message is a sentence."""


class SecretBox:
    """Seals small JSON values with Fernet (AES-128-CBC + HMAC-SHA256, timestamped)."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self.signer = JobSigner(key)  # the same shared secret signs the jobs the panel dispatches

    @classmethod
    def from_settings(cls, settings: Settings, *, create: bool = True) -> SecretBox | None:
        """The panel's box; ``create=False`` (a standalone worker) never writes a key file and may return None."""
        if settings.secret_key:
            return cls(derive_key(settings.secret_key))
        path = settings.data_dir / KEY_FILE
        if not path.exists():
            if not create:
                return None
            write_key_file(path)
        return cls(path.read_bytes().strip())

    def seal(self, value: dict[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(value).encode()).decode()

    def open(self, token: str, *, max_age: int | None = None) -> dict[str, str]:
        try:
            return dict(json.loads(self._fernet.decrypt(token.encode(), ttl=max_age)))
        except (InvalidToken, ValueError) as error:
            raise SecretError(
                'the registry credentials could not be decrypted: the panel and every worker need '
                'the same BERTH_SECRET_KEY (or the same BERTH_DATA_DIR)'
            ) from error


def derive_key(secret: str) -> bytes:
    """A Fernet key as given, or derived from any other secret string."""
    try:
        if len(base64.urlsafe_b64decode(secret.encode())) == 32:
            return secret.encode()
    except ValueError:
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())


def write_key_file(path: Path) -> None:
    """Creates the key file readable by its owner only; never replaces an existing one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return
    with os.fdopen(descriptor, 'wb') as file:
        file.write(Fernet.generate_key())
    path.chmod(0o600)


@dataclass(kw_only=True, slots=True, frozen=True)
class SavedCredential:
    """What the panel may show of a saved credential: never the secret itself."""

    registry: str
    saved_by: str
    saved_at: float


class RegistryCredentials:
    """Credentials users chose to save, one per registry, sealed with the box before they reach the database."""

    def __init__(self, database: Database, box: SecretBox) -> None:
        self.database = database
        self.box = box  # the table is part of the database schema (core/database.py, core/postgres.py)

    def save(self, registry: str, username: str, password: str, saved_by: str) -> None:
        sealed = self.box.seal({'username': username, 'password': password})
        self.database.upsert(
            'registry_credentials',
            'registry',
            {'registry': registry, 'sealed': sealed, 'saved_by': saved_by, 'saved_at': time.time()},
        )

    def get(self, registry: str) -> dict[str, str] | None:
        """The saved username and password for ``registry``, or None."""
        rows = self.database.query('SELECT sealed FROM registry_credentials WHERE registry = ?', (registry,))
        return self.box.open(rows[0]['sealed']) if rows else None

    def saved(self) -> list[SavedCredential]:
        rows = self.database.query('SELECT registry, saved_by, saved_at FROM registry_credentials ORDER BY registry')
        return [SavedCredential(**row) for row in rows]

    def forget(self, registry: str) -> bool:
        return self.database.execute('DELETE FROM registry_credentials WHERE registry = ?', (registry,)) > 0

    def seal_for_job(self, registry: str, username: str, password: str) -> tuple[str, str]:
        """What goes into a pull job: the credentials sealed for the worker, and where they came from
        ('entered', 'saved' or 'none'); an empty token when there are none."""
        if username or password:
            source, value = 'entered', {'username': username, 'password': password}
        else:
            saved = self.get(registry)
            if saved is None:
                return '', 'none'
            source, value = 'saved', saved
        return self.box.seal({**value, 'serveraddress': registry}), source

    def sealed_for(self, registries: list[str]) -> dict[str, str]:
        """Registry → the credentials saved for it, sealed for a worker (registries without any are left out)."""
        sealed = {registry: self.seal_for_job(registry, '', '')[0] for registry in registries}
        return {registry: token for registry, token in sealed.items() if token}
