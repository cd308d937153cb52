"""A Docker Engine of a test's own (own bridge, data root, exec root and socket), to stop and start at will: the
host's own engine is never stopped or restarted by a test."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

from . import BUSYBOX, free_port
from .eventually import eventually_sync
from .tls import TlsFiles, make_tls_files

BRIDGE = 'berthtest0'
BRIDGE_ADDRESS = '172.31.251.1/24'


class OwnEngine:
    """``dockerd`` on ``ROOT/docker.sock`` with its state under ``root``; its log is ``ROOT/dockerd.log``. ``config``
    is its daemon.json (``ROOT/daemon.json``; e.g. extra runtimes such as gVisor's runsc): the host's is never read."""

    def __init__(
        self,
        root: Path,
        bridge: str = BRIDGE,
        config: dict[str, object] | None = None,
        arguments: tuple[str, ...] = (),
    ) -> None:
        self.root = root
        self.bridge = bridge
        self.config = config or {}
        self.arguments = arguments  # more dockerd arguments (e.g. a TLS port: -H tcp://127.0.0.1:PORT --tlsverify …)
        self.socket = root / 'docker.sock'
        self.url = f'unix://{self.socket}'
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        (self.root / 'data').mkdir(exist_ok=True)
        (self.root / 'daemon.json').write_text(json.dumps(self.config))
        with (self.root / 'dockerd.log').open('ab') as log:
            process = self.process = subprocess.Popen(
                [
                    'dockerd',
                    '--config-file',
                    str(self.root / 'daemon.json'),
                    '--data-root',
                    str(self.root / 'data'),
                    '--exec-root',
                    str(self.root / 'exec'),
                    '--pidfile',
                    str(self.root / 'docker.pid'),
                    '-H',
                    self.url,
                    f'--bridge={self.bridge}',
                    '--iptables=false',
                    '--ip-masq=false',
                    *self.arguments,
                ],
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

        def answers() -> bool:
            if process.poll() is not None:
                raise AssertionError(f'the test engine exited:\n{self.log()}')
            return subprocess.run(['docker', '-H', self.url, 'version'], capture_output=True).returncode == 0

        eventually_sync(answers, timeout, lambda: f'the test engine to start:\n{self.log()}', interval=0.25)

    def stop(self) -> None:
        """SIGTERM, as a service manager stops the daemon; waits until it has gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(30)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def cli(self, *arguments: str, input: bytes | None = None) -> str:
        return subprocess.run(
            ['docker', '-H', self.url, *arguments], check=True, capture_output=True, input=input
        ).stdout.decode()

    def log(self) -> str:
        try:
            return (self.root / 'dockerd.log').read_text(errors='replace')
        except OSError:
            return '(no log)'


# gVisor's runsc as an extra runtime (Debian's runsc); without --network=none it refuses to run in the host's network
# namespace here (RECIPES.md)
GVISOR = {'runtimes': {'runsc': {'path': '/usr/bin/runsc', 'runtimeArgs': ['--network=none']}}}


@contextlib.contextmanager
def started_engine(
    root: Path,
    bridge: str = BRIDGE,
    *,
    address: str = BRIDGE_ADDRESS,
    config: dict[str, object] | None = None,
    images: tuple[str, ...] = (BUSYBOX,),
    arguments: tuple[str, ...] = (),
) -> Iterator[OwnEngine]:
    """A started engine with its own bridge (``address`` on it) and the host's ``images`` loaded; afterwards its
    containers, the daemon (with containerd and its shims) and the bridge are gone."""
    engine = OwnEngine(root, bridge, config, arguments)
    subprocess.run(['ip', 'link', 'add', bridge, 'type', 'bridge'], capture_output=True)
    subprocess.run(['ip', 'addr', 'add', address, 'dev', bridge], capture_output=True)
    subprocess.run(['ip', 'link', 'set', bridge, 'up'], check=True, capture_output=True)
    try:
        engine.start()
        for name in images:
            image = subprocess.run(['docker', 'save', name], check=True, capture_output=True).stdout
            engine.cli('load', input=image)
        yield engine
    finally:
        subprocess.run(
            ['sh', '-c', f'docker -H {engine.url} ps -aq | xargs -r docker -H {engine.url} rm -f'],
            capture_output=True,
            timeout=60,
        )
        engine.stop()  # a clean stop takes containerd and its shims along; SIGKILL only if it hangs
        engine.kill()
        subprocess.run(['ip', 'link', 'delete', bridge], capture_output=True)


@contextlib.contextmanager
def started_tls_engine(root: Path, bridge: str, *, address: str) -> Iterator[tuple[OwnEngine, str, TlsFiles]]:
    """A started engine that also listens on a loopback TCP port with mutual TLS (a CA, server and client certificate
    made here); yields it, its ``tcp://`` URL and the certificate files."""
    tls = make_tls_files(root / 'tls')
    url = f'tcp://127.0.0.1:{free_port()}'
    with started_engine(root, bridge, address=address, arguments=('-H', url, *tls.daemon_arguments())) as engine:
        yield engine, url, tls


def endpoints_setting(endpoint_id: str, name: str, url: str, tls: TlsFiles) -> str:
    """``BERTH_ENDPOINTS`` naming that engine with the client certificate."""
    entry = {'id': endpoint_id, 'name': name, 'url': url, 'ca': str(tls.ca), 'cert': str(tls.client_cert)}
    return json.dumps([{**entry, 'key': str(tls.client_key)}])
