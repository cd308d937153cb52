"""Docker Engine access: the client for an endpoint, and the daemon's errors as sentences."""

from __future__ import annotations

import docker
import docker.errors
import docker.tls
import requests.exceptions
import urllib3.exceptions

from core.docker.endpoint_spec import TlsMaterial
from core.docker.raw import one_pool_per_socket, settle_api_version, use_ssh_options
from core.docker.tls_files import secret_file, tls_files

LOCAL_SOCKET = 'unix:///var/run/docker.sock'
# one pool for every path of a unix socket client (core/docker/raw.py): idle connections it may keep, so that threads
# reading at once (the usage sampler's 10, the pages' reads) do not have theirs discarded and opened again
SOCKET_POOL_SIZE = 32
ENGINE_UNREACHABLE = 'Docker engine unreachable'
MINIMUM_API = '1.24'  # docker-py's own minimum: only until the engine says its version


def make_client(
    docker_host: str | None,
    timeout: int = 30,
    version: str | None = None,
    tls: TlsMaterial | None = None,
    ssh_key: str = '',
    known_hosts: str = '',
) -> docker.DockerClient:
    """The one constructor of Docker SDK clients: for ``docker_host`` (None: the local socket), with mutual TLS when
    ``tls`` is given (the engine's certificate checked against its CA), over the ``ssh`` client for ``ssh://`` (with
    ``ssh_key`` and ``known_hosts`` when given: that key only, that host key only, never a prompt). With
    ``version`` known, no version request is made. Callers go through :class:`core.docker.endpoints.Endpoints`."""
    tls_config: docker.tls.TLSConfig | None = None
    if tls is not None:
        ca, cert, key = tls_files(tls)
        tls_config = docker.tls.TLSConfig(client_cert=(cert, key), ca_cert=ca, verify=True)
    url = docker_host or LOCAL_SOCKET
    if url.startswith('ssh:'):
        return _ssh_client(url, timeout, version, ssh_key, known_hosts)
    if tls_config is None:
        client = docker.DockerClient(base_url=url, timeout=timeout, version=version, max_pool_size=SOCKET_POOL_SIZE)
        one_pool_per_socket(client.api)
        return client
    # requests would otherwise let REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE replace the endpoint's own CA (and proxy
    # variables reroute it): the engine's certificate is checked against the CA given, and nothing else. The version
    # request is made only once that is so.
    client = docker.DockerClient(base_url=url, timeout=timeout, version=version or MINIMUM_API, tls=tls_config)
    client.api.trust_env = False
    if version is None:
        settle_api_version(client.api)
    return client


def ssh_options(timeout: int, ssh_key: str, known_hosts: str) -> list[str]:
    """The ``ssh`` client's options for an endpoint: never a prompt, and with ``ssh_key`` and ``known_hosts`` given,
    that key only (a private 0600 file) and that host key only."""
    options = ['-o', 'BatchMode=yes', '-o', f'ConnectTimeout={timeout}']
    if ssh_key:
        options += ['-i', secret_file(ssh_key, 'id_key'), '-o', 'IdentitiesOnly=yes']
    if known_hosts:
        hosts_file = secret_file(known_hosts, 'known_hosts')
        options += ['-o', f'UserKnownHostsFile={hosts_file}', '-o', 'StrictHostKeyChecking=yes']
    return options


def _ssh_client(url: str, timeout: int, version: str | None, ssh_key: str, known_hosts: str) -> docker.DockerClient:
    options = ssh_options(timeout, ssh_key, known_hosts)
    client = docker.DockerClient(base_url=url, timeout=timeout, version=version or MINIMUM_API, use_ssh_client=True)
    use_ssh_options(client.api, url, options)
    if version is None:
        settle_api_version(client.api)
    return client


def describe_error(error: BaseException) -> str:
    """A sentence for the user: the daemon's own message where there is one, never a traceback."""
    if isinstance(error, docker.errors.NotFound):
        return f'not found: {_explanation(error)}'
    if isinstance(error, docker.errors.APIError):
        return _explanation(error)
    if _caused_by(error, UNREACHABLE):
        return ENGINE_UNREACHABLE
    if _caused_by(error, (requests.exceptions.Timeout,)):
        return 'Docker engine did not answer in time'
    return str(error) or type(error).__name__


# The engine gone: refused or cut connections, a missing socket, and a stream (pull, build) broken mid-way (urllib3's
# ProtocolError, or requests' wrapping of it)
UNREACHABLE = (
    requests.exceptions.ConnectionError,
    ConnectionError,
    FileNotFoundError,
    requests.exceptions.ChunkedEncodingError,
    urllib3.exceptions.ProtocolError,
)


def _caused_by(error: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    """``error`` or what it was raised from is one of ``kinds`` (docker-py wraps a refused connection made while it
    asks the engine's API version in a DockerException of its own)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, kinds):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _explanation(error: docker.errors.APIError) -> str:
    explanation = error.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode(errors='replace')
    return str(explanation or error)
