"""The requests docker-py has no public call for, and every use of its private helpers (docker-py 7.1).

Streams need the HTTP response itself (to shut its socket from another thread) or the raw socket of an upgraded
connection; docker-py's public calls hide both. Everything that reaches into ``APIClient._*`` or a response socket's
private attributes is here, so a docker-py upgrade is checked in one place.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import docker
import requests
from docker.transport import sshconn
from docker.transport.unixconn import UnixHTTPAdapter

from core.docker.ssh_pipe import PipeReader, ResponseFile


def get_stream(
    api: docker.APIClient, path: str, *path_arguments: str, params: dict[str, Any], read_timeout: bool = False
) -> requests.Response:
    """``GET path`` as a streamed response, unread; the daemon's error raised as docker-py raises it. Without
    ``read_timeout`` a quiet stream never times out: closing the response ends it instead."""
    response = api._get(api._url(path, *path_arguments), params=params, stream=True)
    api._raise_for_status(response)
    if not read_timeout:
        api._disable_socket_timeout(api._get_raw_response_socket(response))
    return response


def post_stream(
    api: docker.APIClient, path: str, *path_arguments: str, params: dict[str, Any], headers: dict[str, str]
) -> requests.Response:
    """``POST path`` as a streamed response without a timeout, unread; the daemon's error raised as docker-py does."""
    response = api._post(api._url(path, *path_arguments), params=params, headers=headers, stream=True, timeout=None)
    api._raise_for_status(response)
    return response


def decoded_messages(api: docker.APIClient, response: requests.Response) -> Iterator[dict[str, Any]]:
    """The JSON messages of a streamed response (pull, push, build progress), as docker-py decodes them."""
    yield from api._stream_helper(response, decode=True)


def path_exists(api: docker.APIClient, container_id: str, path: str, timeout: int = 10) -> bool:
    """Whether ``path`` exists in the container: HEAD on the archive endpoint stats it without running anything."""
    response = api.head(api._url('/containers/{0}/archive', container_id), params={'path': path}, timeout=timeout)
    return bool(response.status_code == 200)


def unwrap_socket(response_socket: Any) -> tuple[socket.socket, list[Any]]:
    """The raw socket of an exec or attach connection (``socket=True``), and the handles docker-py keeps with it (to
    close with it)."""
    raw = getattr(response_socket, '_sock', response_socket)
    return raw, [response_socket, getattr(response_socket, '_response', None)]


def buffered_bytes(response_socket: Any) -> bytes:
    """Output that arrived with the HTTP upgrade answer sits in the HTTP reader's buffer, not in the socket."""
    response = getattr(response_socket, '_response', None)
    reader = getattr(getattr(getattr(response, 'raw', None), '_fp', None), 'fp', None)
    raw = getattr(response_socket, '_sock', None)
    if reader is None or raw is None:
        return b''
    try:
        raw.settimeout(0)
        pending = reader.peek()
        return bytes(reader.read(len(pending))) if pending else b''
    except (OSError, ValueError):
        return b''
    finally:
        raw.settimeout(None)


def settle_api_version(api: docker.APIClient) -> None:
    """Asks the engine for its API version and uses it (what docker-py does in its constructor with no version)."""
    api._version = api._retrieve_server_version()


class _KeyedSSHSocket(sshconn.SSHSocket):
    """docker-py's ``ssh`` client socket with options before the host (a stored key, known hosts): the same command,
    ``ssh [-l user] [-p port] OPTIONS -- host docker system dial-stdio``."""

    def __init__(self, host: str, options: list[str]) -> None:
        super().__init__(host)
        self.options = options
        self.pipe_reader: PipeReader | None = None

    def connect(self, **kwargs: Any) -> None:
        arguments = ['ssh']
        if self.user:
            arguments += ['-l', self.user]
        if self.port:
            arguments += ['-p', self.port]
        arguments += [*self.options, '--', self.host, 'docker system dial-stdio']
        environment = {
            key: value for key, value in os.environ.items() if key not in ('LD_LIBRARY_PATH', 'SSL_CERT_FILE')
        }
        self.proc = subprocess.Popen(
            arguments,
            env=environment,
            stdout=subprocess.PIPE,
            stdin=subprocess.PIPE,
            start_new_session=True,  # a Ctrl-C in the panel's terminal does not reach it (docker-py ignores SIGINT)
        )

    def makefile(self, mode: str) -> ResponseFile:
        """The file one HTTP response is read from (see ``core/docker/ssh_pipe.py``)."""
        return ResponseFile(self._reader(), self)

    def recv(self, size: int) -> bytes:
        return self._reader().read1(size)

    def fileno(self) -> int:
        return self._reader().fileno()

    def pending(self) -> int:
        return self._reader().pending()

    def _reader(self) -> PipeReader:
        if not self.proc:
            self.connect()
        assert self.proc is not None and self.proc.stdout is not None
        if self.pipe_reader is None:
            self.pipe_reader = PipeReader(self.proc.stdout.fileno())
        return self.pipe_reader

    def exited(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None


class _KeyedSSHConnection(sshconn.SSHConnection):
    def __init__(self, options: list[str], timeout: float, host: str) -> None:
        super().__init__(None, timeout=timeout, host=host)
        self.options = options

    def connect(self) -> None:
        sock = _KeyedSSHSocket(self.ssh_host, self.options)
        sock.settimeout(self.timeout)
        sock.connect()
        self.sock = sock


class _KeyedSSHPool(sshconn.SSHConnectionPool):
    def __init__(self, options: list[str], timeout: float, maxsize: int, host: str) -> None:
        super().__init__(None, timeout=timeout, maxsize=maxsize, host=host)
        self.options = options

    def _new_conn(self) -> _KeyedSSHConnection:
        return _KeyedSSHConnection(self.options, self.timeout, self.ssh_host)

    def _get_conn(self, timeout: float | None = None) -> Any:
        """An idle connection whose ssh process still runs, else a new one."""
        connection = super()._get_conn(timeout)
        sock = getattr(connection, 'sock', None)
        if isinstance(sock, _KeyedSSHSocket) and sock.exited():
            connection.close()
            return self._new_conn()
        return connection


class _KeyedSSHAdapter(sshconn.SSHHTTPAdapter):
    """One pool of ``ssh`` connections per client, so per endpoint for the shared client. docker-py's adapter with
    ``use_ssh_client`` makes a new pool for every request: each call started an ``ssh`` process (a full SSH
    handshake) and left it behind."""

    def __init__(self, base_url: str, options: list[str], timeout: float) -> None:
        super().__init__(base_url, timeout=timeout, shell_out=True)
        self.options = options
        self._pool: _KeyedSSHPool | None = None
        self._pool_lock = threading.Lock()

    def get_connection(self, url: Any, proxies: Any = None) -> _KeyedSSHPool:
        with self._pool_lock:
            if self._pool is None:
                self._pool = _KeyedSSHPool(self.options, self.timeout, self.max_pool_size, self.ssh_host)
            return self._pool

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()  # ends the idle connections' ssh processes
        super().close()


def one_pool_per_socket(api: docker.APIClient) -> None:
    """Makes a unix socket client keep one connection pool for the socket instead of one per request URL.

    docker-py's unix adapter keys its pools by the whole URL (``/containers/ID/json`` …, up to 25 pools, each keeping
    its idle connection): every container, exec or image a client looked at for the first time cost a new connection
    to the daemon, and a long-lived client held up to 25 idle ones (bench/load.py's soak: the panel's connections to
    the daemon rose with each round of page opens). With one pool, connections are reused whatever the path, and at
    most ``max_pool_size`` idle ones are kept."""
    adapter = api.adapters.get('http+docker://')
    if not isinstance(adapter, UnixHTTPAdapter):
        return
    by_url = adapter.get_connection

    def get_connection(url: Any, proxies: Any = None) -> Any:
        return by_url(SOCKET_POOL, proxies)

    adapter.get_connection = get_connection  # type: ignore[method-assign]


SOCKET_POOL = 'http+docker://localhost'  # the one key: a unix pool's base URL is not used to reach the socket


def use_ssh_options(api: docker.APIClient, base_url: str, options: list[str]) -> None:
    """Makes an ``ssh://`` client (``use_ssh_client=True``) run ``ssh`` with ``options`` (``-i KEY`` …)."""
    adapter = _KeyedSSHAdapter(base_url, options, api.timeout)
    api._custom_adapter = adapter
    api.mount('http+docker://ssh', adapter)


def keep_alive(stream: Any, idle: int = 10, interval: int = 5, count: int = 3) -> bool:
    """TCP keepalive on the connection an event stream (docker-py's ``CancellableStream``) reads from, so a peer that
    vanished without a word (a cut network, a host gone) ends the read after ``idle + interval * count`` seconds
    instead of never. False for a stream that is not on TCP (a Unix socket, SSH)."""
    try:
        fp = stream._response.raw._fp.fp
        raw = getattr(fp, 'raw', None)
        sock = getattr(raw, 'sock', None) or getattr(raw, '_sock', None)
    except AttributeError:
        return False
    if not isinstance(sock, socket.socket) or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return False
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (('TCP_KEEPIDLE', idle), ('TCP_KEEPINTVL', interval), ('TCP_KEEPCNT', count)):
        if hasattr(socket, option):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)
    return True
