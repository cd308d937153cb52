"""What an endpoint may be, and the sentences for what it may not: a Unix socket, TCP with mutual TLS (plain TCP only
when an admin confirmed the risk), or SSH. Shared by ``BERTH_ENDPOINTS`` and the admin page."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.errors import clip

ENDPOINT_ID = re.compile(r'[a-z0-9][a-z0-9-]{0,31}')
PLAIN_TCP_RISK = (
    'plain TCP without TLS gives root on that host to anyone who can reach the port: confirm that you accept this, '
    'or give a CA, a client certificate and its key'
)


class EndpointError(ValueError):
    """A bad endpoint definition; ``str()`` is a sentence naming the field."""


class EndpointKind(StrEnum):
    SOCKET = 'socket'  # unix:///any/path
    TLS = 'tls'  # tcp://host:2376 with mutual TLS
    TCP = 'tcp'  # tcp://host:2375 without TLS: refused unless confirmed
    SSH = 'ssh'  # ssh://user@host (the ssh client, and a stored key when one is given)


@dataclass(kw_only=True, slots=True, frozen=True)
class TlsMaterial:
    """PEM text of the CA that signed the engine's certificate, and of the panel's client certificate and key."""

    ca: str
    cert: str
    key: str

    def as_dict(self) -> dict[str, str]:
        return {'ca': self.ca, 'cert': self.cert, 'key': self.key}


def kind_of(url: str | None, *, tls: bool) -> EndpointKind:
    """The kind of ``url``; raises :class:`EndpointError` with a sentence for anything else."""
    if not url:
        return EndpointKind.SOCKET
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # an unclosed IPv6 bracket, say
        raise EndpointError(
            f'url "{clip(url)}": use unix:///path, tcp://host:port (with TLS) or ssh://user@host'
        ) from None
    if parts.scheme == 'unix':
        if not parts.path.startswith('/'):
            raise EndpointError(f'url "{clip(url)}": a Unix socket is unix:///absolute/path/docker.sock')
        return EndpointKind.SOCKET
    if parts.scheme in ('tcp', 'https', 'http'):
        try:
            port = parts.port
        except ValueError:
            raise EndpointError(f'url "{clip(url)}": the port is not a number') from None
        if not hostname or port is None:
            raise EndpointError(f'url "{clip(url)}": a TCP endpoint is tcp://host:port (2376 is the usual TLS port)')
        return EndpointKind.TLS if tls else EndpointKind.TCP
    if parts.scheme == 'ssh':
        if not hostname:
            raise EndpointError(f'url "{clip(url)}": an SSH endpoint is ssh://user@host (or ssh://user@host:port)')
        return EndpointKind.SSH
    raise EndpointError(f'url "{clip(url)}": use unix:///path, tcp://host:port (with TLS) or ssh://user@host')


def check_id(endpoint_id: str) -> str:
    if not ENDPOINT_ID.fullmatch(endpoint_id):
        raise EndpointError(
            f'id "{clip(endpoint_id)}": use 1 to 32 lower-case letters, digits and hyphens, starting with a letter '
            'or digit'
        )
    return endpoint_id


def check_pem(field: str, text: str, marker: str) -> str:
    """``text`` when it looks like a PEM block of ``marker`` (CERTIFICATE, PRIVATE KEY); a sentence otherwise."""
    if '-----BEGIN ' not in text or marker not in text.split('-----BEGIN ', 1)[1].split('-----', 1)[0]:
        raise EndpointError(f'{field}: not a PEM {marker.lower()} (it should start with "-----BEGIN {marker}-----")')
    return text.strip() + '\n'


def tls_material(ca: str, cert: str, key: str) -> TlsMaterial | None:
    """All three, checked, or none; one or two alone is a sentence."""
    given = [bool(ca.strip()), bool(cert.strip()), bool(key.strip())]
    if not any(given):
        return None
    if not all(given):
        raise EndpointError('TLS needs all three: the CA certificate, the client certificate and the client key')
    return TlsMaterial(
        ca=check_pem('CA certificate', ca, 'CERTIFICATE'),
        cert=check_pem('client certificate', cert, 'CERTIFICATE'),
        key=check_pem('client key', key, 'PRIVATE KEY'),
    )


def parse_endpoints_setting(text: str) -> list[dict[str, Any]]:
    """``BERTH_ENDPOINTS``: a JSON list of ``{"id", "name", "url", "ca", "cert", "key"}`` (file paths for the last
    three); each entry checked, its files read. Returns the definitions with the PEM text in place of the paths."""
    if not text.strip():
        return []
    try:
        entries = json.loads(text)
    except ValueError as error:
        raise EndpointError(f'BERTH_ENDPOINTS is not valid JSON ({error})') from None
    except RecursionError:
        raise EndpointError('BERTH_ENDPOINTS is not valid JSON (nested too deeply)') from None
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise EndpointError('BERTH_ENDPOINTS must be a JSON list of objects with id, name and url')
    definitions: list[dict[str, Any]] = []
    for number, entry in enumerate(entries, 1):
        where = f'BERTH_ENDPOINTS entry {number}'
        unknown = set(entry) - {'id', 'name', 'url', 'ca', 'cert', 'key', 'ssh_key', 'known_hosts', 'insecure'}
        if unknown:
            raise EndpointError(f'{where}: unknown field(s) {", ".join(sorted(unknown))}')
        try:
            endpoint_id = check_id(str(entry.get('id') or ''))
            url = str(entry.get('url') or '')
            files = {
                field: _read(str(entry.get(field) or ''), field)
                for field in ('ca', 'cert', 'key', 'ssh_key', 'known_hosts')
            }
            tls = tls_material(files['ca'], files['cert'], files['key'])
            kind = kind_of(url, tls=tls is not None)
            if (files['ssh_key'] or files['known_hosts']) and kind is not EndpointKind.SSH:
                raise EndpointError(f'url "{clip(url)}": ssh_key and known_hosts are for ssh:// endpoints only')
            if kind is EndpointKind.TCP and entry.get('insecure') is not True:
                raise EndpointError(f'url "{clip(url)}": {PLAIN_TCP_RISK} (set "insecure": true to accept it)')
        except EndpointError as error:
            raise EndpointError(f'{where}: {error}') from None
        if any(known['id'] == endpoint_id for known in definitions):
            raise EndpointError(f'{where}: the id "{clip(endpoint_id)}" is used twice')
        definitions.append(
            {
                'id': endpoint_id,
                'name': str(entry.get('name') or endpoint_id),
                'url': url or None,
                'tls': tls,
                'ssh_key': files['ssh_key'],
                'known_hosts': files['known_hosts'],
                'insecure': kind is EndpointKind.TCP,
            }
        )
    return definitions


def _read(path: str, field: str) -> str:
    if not path:
        return ''
    try:
        return Path(path).read_text()
    except OSError as error:
        raise EndpointError(f'{field}: cannot read "{clip(path)}" ({error.strerror or error})') from None
    except ValueError:  # a NUL in the path; a file that is not UTF-8 text (UnicodeDecodeError)
        raise EndpointError(f'{field}: "{clip(path)}" is not a readable text file') from None
