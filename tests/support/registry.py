"""A real image registry for pull tests: Debian's docker-registry on 127.0.0.1, images with their own layers,
and a throttling TCP proxy in front of it (a slow registry, so a pull can be watched and cancelled)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from types import TracebackType
from typing import Self

import docker

from . import BUSYBOX, free_port
from .eventually import eventually_sync

REGISTRY_BINARY = shutil.which('docker-registry') or '/usr/bin/docker-registry'
REPOSITORY = 'berth-test/pull'
USERNAME, PASSWORD = 'puller', 'correct horse battery staple'


class LocalRegistry:
    """``docker-registry serve`` on a free 127.0.0.1 port (the engine allows plain HTTP to 127.0.0.0/8)."""

    def __init__(self, *, with_auth: bool = False) -> None:
        self.port = free_port()
        self.address = f'127.0.0.1:{self.port}'
        self._tmp = tempfile.TemporaryDirectory(prefix='berth-registry-')
        self.root = Path(self._tmp.name)
        self.with_auth = with_auth
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        auth = ''
        if self.with_auth:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore', DeprecationWarning)
                import crypt  # noqa: PLC0415 — deprecated: imported under the warnings filter above

                # bcrypt cost 4: the registry checks it at every request of a push (cost 12 made a push take 7 s)
                hashed = crypt.crypt(PASSWORD, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
            (self.root / 'htpasswd').write_text(f'{USERNAME}:{hashed}\n')
            auth = f'auth:\n  htpasswd:\n    realm: berth-test\n    path: {self.root / "htpasswd"}\n'
        (self.root / 'registry.yml').write_text(
            'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n'
            f'storage:\n  filesystem:\n    rootdirectory: {self.root / "storage"}\n  delete:\n    enabled: true\n'
            f'http:\n  addr: {self.address}\n{auth}'
        )
        with (self.root / 'registry.log').open('wb') as log:
            self.process = subprocess.Popen(
                [REGISTRY_BINARY, 'serve', str(self.root / 'registry.yml')],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        eventually_sync(self._answers, 15, f'docker-registry to answer on {self.address}')
        return self

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f'docker-registry exited: {(self.root / "registry.log").read_text()}')
        try:
            urllib.request.urlopen(f'http://{self.address}/v2/', timeout=1).close()
        except urllib.error.HTTPError:  # 401 with auth: it answers
            return True
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._tmp.cleanup()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


class ThrottledProxy:
    """TCP proxy on a free port; what flows from the registry to the engine is held to ``bytes_per_second``."""

    def __init__(self, upstream_port: int, bytes_per_second: int) -> None:
        self.upstream_port = upstream_port
        self.rate = bytes_per_second
        self._listener = socket.create_server(('127.0.0.1', 0))
        self.port = int(self._listener.getsockname()[1])
        self.address = f'127.0.0.1:{self.port}'
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(('127.0.0.1', self.upstream_port))
            threading.Thread(target=self._pump, args=(client, upstream, 0), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, self.rate), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, rate: int) -> None:
        try:
            while data := source.recv(16384):
                target.sendall(data)
                if rate:
                    time.sleep(len(data) / rate)
        except OSError:
            pass
        finally:
            for end in (source, target):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._stop.set()
        self._listener.close()


def build_layered_image(client: docker.DockerClient, tag: str, megabytes: list[float]) -> None:
    """An image FROM the local busybox with one layer of random bytes per entry (engines never share those)."""
    with tempfile.TemporaryDirectory(prefix='berth-build-') as directory:
        lines = [f'FROM {BUSYBOX}']
        for index, size in enumerate(megabytes):
            (Path(directory) / f'layer{index}').write_bytes(os.urandom(int(size * 1_000_000)))
            lines.append(f'COPY layer{index} /data/layer{index}')
        (Path(directory) / 'Dockerfile').write_text('\n'.join(lines) + '\n')
        client.images.build(path=directory, tag=tag, rm=True)


def push_and_forget(
    client: docker.DockerClient, local_tag: str, registry: str, name: str, auth_config: dict[str, str] | None = None
) -> str:
    """Pushes ``local_tag`` as ``registry/name`` and removes every local tag, so its layers are gone here."""
    remote = f'{registry}/{name}'
    repository, tag = remote.rsplit(':', 1)
    client.api.tag(local_tag, repository, tag)
    for message in client.api.push(repository, tag, stream=True, decode=True, auth_config=auth_config):
        if 'error' in message:
            raise RuntimeError(f'push of {remote} failed: {message["error"]}')
    for reference in (remote, local_tag):
        client.api.remove_image(reference)
    return remote


def forget_locally(reference: str) -> None:
    subprocess.run(['docker', 'rmi', '-f', reference], check=False, capture_output=True)


def require_insecure_loopback(client: docker.DockerClient) -> None:
    cidrs = (client.info().get('RegistryConfig') or {}).get('InsecureRegistryCIDRs') or []
    if '127.0.0.0/8' not in cidrs:
        raise AssertionError(
            f'the engine must allow plain-HTTP registries on 127.0.0.0/8 (its default); it has {cidrs}'
        )
