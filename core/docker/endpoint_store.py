"""Endpoints admins add in ``/admin/endpoints``: kept in the ``endpoints`` table with their TLS material sealed by the
panel's key (``BERTH_SECRET_KEY``, or the key file), and the connection test made before one is saved."""

from __future__ import annotations

import logging
import time
from contextlib import closing
from dataclasses import dataclass

from core.docker.client import describe_error
from core.docker.endpoint_spec import (
    PLAIN_TCP_RISK,
    EndpointError,
    EndpointKind,
    TlsMaterial,
    check_id,
    check_pem,
    kind_of,
    tls_material,
)
from core.docker.endpoints import Endpoint, EndpointSource
from core.errors import clip
from core.storage.credentials import SecretBox, SecretError
from core.storage.database import Database

log = logging.getLogger(__name__)
PROBE_SECONDS = 10


class StoredEndpoints:
    """The ``endpoints`` table; every secret in it is sealed (Fernet) before it reaches the database."""

    def __init__(self, database: Database, box: SecretBox) -> None:
        self.database = database
        self.box = box

    def load(self) -> list[Endpoint]:
        """Every stored endpoint; one that cannot be opened (another key) is left out with a log line."""
        endpoints = []
        for row in self.database.query('SELECT id, name, url, sealed FROM endpoints ORDER BY id'):
            try:
                secrets = self.box.open(row['sealed'])
            except SecretError:
                log.warning(
                    'endpoint "%s" is not loaded: its TLS material was sealed with another BERTH_SECRET_KEY', row['id']
                )
                continue
            tls = None
            if secrets.get('ca'):
                tls = TlsMaterial(ca=secrets['ca'], cert=secrets['cert'], key=secrets['key'])
            endpoints.append(
                Endpoint(
                    id=row['id'],
                    name=row['name'],
                    url=row['url'] or None,
                    tls=tls,
                    insecure=secrets.get('insecure') == 'yes',
                    ssh_key=secrets.get('ssh_key', ''),
                    known_hosts=secrets.get('known_hosts', ''),
                    source=EndpointSource.STORED,
                )
            )
        return endpoints

    def version(self) -> tuple[tuple[str, float], ...]:
        """(id, when saved) of every stored endpoint: changes with each save and delete, read without unsealing."""
        rows = self.database.query('SELECT id, updated_at FROM endpoints ORDER BY id')
        return tuple((str(row['id']), float(row['updated_at'] or 0)) for row in rows)

    def save(self, endpoint: Endpoint, updated_by: str) -> None:
        secrets = {
            'insecure': 'yes' if endpoint.insecure else 'no',
            'ssh_key': endpoint.ssh_key,
            'known_hosts': endpoint.known_hosts,
            **(endpoint.tls.as_dict() if endpoint.tls else {}),
        }
        self.database.upsert(
            'endpoints',
            'id',
            {
                'id': endpoint.id,
                'name': endpoint.name,
                'url': endpoint.url or '',
                'sealed': self.box.seal(secrets),
                'updated_by': updated_by,
                'updated_at': time.time(),
            },
        )

    def delete(self, endpoint_id: str) -> bool:
        return self.database.execute('DELETE FROM endpoints WHERE id = ?', (endpoint_id,)) > 0


@dataclass(kw_only=True, slots=True, frozen=True)
class EngineProbe:
    """What the connection test found: the engine's version, API version, name and id (to tell engines apart)."""

    version: str
    api_version: str
    name: str
    engine_id: str

    @property
    def sentence(self) -> str:
        return f'Docker {self.version} (API {self.api_version}) on {self.name}'


class ProbeFailed(Exception):
    """The connection test failed; ``str()`` is a sentence."""


def probe(endpoint: Endpoint, timeout: int = PROBE_SECONDS) -> EngineProbe:
    """Connects to ``endpoint`` and asks ``/version`` and ``/info`` (blocking: call it off the event loop)."""
    try:
        with closing(endpoint.connect(timeout=timeout)) as client:
            version = client.api.version()
            info = client.api.info()
    except Exception as error:
        raise ProbeFailed(f'could not reach {endpoint.address}: {_reason(error)}') from None
    return EngineProbe(
        version=str(version.get('Version') or '?'),
        api_version=str(version.get('ApiVersion') or '?'),
        name=str(info.get('Name') or '?'),
        engine_id=str(info.get('ID') or ''),
    )


def _reason(error: BaseException) -> str:
    text = str(error)
    for needle, sentence in (
        ('CERTIFICATE_VERIFY_FAILED', "the engine's certificate is not signed by the CA given"),
        ('certificate required', 'the engine refused the client certificate'),
        ('bad certificate', 'the engine refused the client certificate'),
        ('unknown ca', 'the engine does not trust the CA that signed the client certificate'),
        ('KEY_VALUES_MISMATCH', 'the client key does not belong to the client certificate'),
        ('Connection refused', 'nothing answers there (connection refused)'),
        ('No such file or directory', 'no socket at that path'),
        ('timed out', 'no answer in time'),
        ('Name or service not known', 'the host name is not known'),
    ):
        if needle in text:
            return sentence
    return describe_error(error)


def endpoint_from_form(
    *,
    endpoint_id: str,
    name: str,
    url: str,
    ca: str = '',
    cert: str = '',
    key: str = '',
    insecure: bool = False,
    ssh_key: str = '',
    known_hosts: str = '',
    previous: Endpoint | None = None,
) -> Endpoint:
    """The endpoint an admin asked for, checked; raises :class:`EndpointError` with a sentence. Empty TLS fields on an
    edit keep the stored material (it is never shown again)."""
    check_id(endpoint_id.strip())
    if not name.strip():
        raise EndpointError('name: give the host a name people will recognise')
    url = url.strip()
    if not url:
        raise EndpointError('url: where the engine listens (unix:///path, tcp://host:2376 or ssh://user@host)')
    tls = tls_material(ca, cert, key)
    if tls is None and previous is not None and previous.tls is not None:
        tls = previous.tls
    kind = kind_of(url, tls=tls is not None)
    if tls is not None and kind not in (EndpointKind.TLS,):
        raise EndpointError(f'url "{clip(url)}": TLS certificates are for tcp:// endpoints only')
    if kind is EndpointKind.TCP and not insecure:
        raise EndpointError(f'url "{clip(url)}": {PLAIN_TCP_RISK}')
    ssh_key = check_pem('SSH key', ssh_key, 'PRIVATE KEY') if ssh_key.strip() else ''
    if previous is not None and not ssh_key:
        ssh_key = previous.ssh_key
    if (ssh_key or known_hosts.strip()) and kind is not EndpointKind.SSH:
        raise EndpointError(f'url "{clip(url)}": an SSH key and known hosts are for ssh:// endpoints only')
    return Endpoint(
        id=endpoint_id.strip(),
        name=name.strip(),
        url=url,
        tls=tls,
        insecure=kind is EndpointKind.TCP,
        ssh_key=ssh_key,
        known_hosts=known_hosts.strip(),
        source=EndpointSource.STORED,
    )
