"""An ``ssh://`` endpoint with a stored key: the panel runs the ``ssh`` client with that key only, that host key only
and never a prompt, and talks to the engine through ``docker system dial-stdio`` on the other side. No SSH server is
installed here, so a stand-in ``ssh`` first on the PATH records its arguments and runs the far side itself."""

from __future__ import annotations

import asyncio
import json
import stat
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from core.docker.endpoint_store import probe
from core.docker.endpoints import Endpoint, Endpoints
from core.stacks.compose import default_compose
from core.stacks.connection import compose_connection
from core.streams.exec_session import ExecRequest, Terminals
from tests.support.eventually import eventually

KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nbho-not-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n'
KNOWN = 'build.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIbhobhobhobhobhobhobhobhobhobhobhobhobhobhobho'


@pytest.fixture
def stand_in_ssh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``ssh`` that writes its arguments (and the key file it was given) to a JSON file, then is the far side."""
    folder = tmp_path / 'bin'
    folder.mkdir()
    record = tmp_path / 'ssh-calls.jsonl'
    script = folder / 'ssh'
    script.write_text(
        '#!/usr/bin/env python3\n'
        'import json, os, sys\n'
        'args = sys.argv[1:]\n'
        'key = args[args.index("-i") + 1] if "-i" in args else ""\n'
        'mode = oct(os.stat(key).st_mode) if key else ""\n'
        'entry = {"args": args, "key": open(key).read() if key else "", "mode": mode, "pid": os.getpid()}\n'
        f'open({str(record)!r}, "a").write(json.dumps(entry) + "\\n")\n'
        'os.execvp("docker", ["docker", "-H", "unix:///var/run/docker.sock", "system", "dial-stdio"])\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv('PATH', f'{folder}:{Path("/usr/bin")}:{Path("/bin")}')
    return record


async def test_an_ssh_endpoint_uses_its_stored_key_and_host_key_only(stand_in_ssh: Path) -> None:
    endpoint = Endpoint(id='build', name='Build', url='ssh://bho@build.example:2222', ssh_key=KEY, known_hosts=KNOWN)
    found = probe(endpoint)
    assert found.api_version and found.engine_id  # the engine answered through the ssh transport
    call = json.loads(stand_in_ssh.read_text().splitlines()[0])
    args = call['args']
    assert args[:4] == ['-l', 'bho', '-p', '2222']
    assert args[-3:] == ['--', 'build.example', 'docker system dial-stdio']
    options = ' '.join(args)
    assert '-o BatchMode=yes' in options and '-o IdentitiesOnly=yes' in options
    assert '-o StrictHostKeyChecking=yes' in options
    assert call['key'] == KEY and call['mode'].endswith('600')  # the key, written for ssh only
    known_file = next(arg.split('=', 1)[1] for arg in args if arg.startswith('UserKnownHostsFile='))
    assert Path(known_file).read_text().strip() == KNOWN


def test_compose_reaches_an_ssh_endpoint_with_its_stored_key_and_host_key_only(stand_in_ssh: Path) -> None:
    endpoint = Endpoint(id='build', name='Build', url='ssh://bho@build.example:2222', ssh_key=KEY, known_hosts=KNOWN)
    compose = default_compose()
    with tempfile.TemporaryDirectory() as home, compose_connection(endpoint) as engine:
        environment = {**compose.environment(None, Path(home)), **engine}
        folder = Path(engine['PATH'].split(':')[0])
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        listed = compose.run([str(compose.path), 'ls', '--all', '--format', 'json'], environment)
    assert listed.returncode == 0, listed.stderr  # compose listed the engine's projects through the ssh transport
    assert not folder.exists()  # the ssh of its own, gone with the run
    call = json.loads(stand_in_ssh.read_text().splitlines()[0])
    options = ' '.join(call['args'])
    assert '-o BatchMode=yes' in options and '-o IdentitiesOnly=yes' in options
    assert '-o StrictHostKeyChecking=yes' in options
    assert call['key'] == KEY and call['mode'].endswith('600')
    assert call['args'][-1].endswith('system dial-stdio') and 'build.example' in call['args']


async def test_one_ssh_connection_serves_many_requests(stand_in_ssh: Path, make_container: Callable[..., str]) -> None:
    """docker-py's ssh-client adapter makes a new pool per request: each call was a new ``ssh`` process (a handshake).
    Berth keeps one pool per client, so the endpoint's shared client reuses its connection (and closes it)."""
    endpoint = Endpoint(id='build', name='Build', url='ssh://bho@build.example', ssh_key=KEY, known_hosts=KNOWN)
    name = make_container(name=f'berth-h3-ssh-{uuid.uuid4().hex[:8]}')
    endpoints = Endpoints([endpoint])
    client = endpoints.client('build')
    for _ in range(5):
        client.api.version()
        client.api.containers(all=True)
        assert client.api.inspect_container(name)['Name'] == f'/{name}'
    assert len(stand_in_ssh.read_text().splitlines()) == 1  # the version asked at start, and 15 requests after it
    # Closing the client ends its ssh process
    pid = json.loads(stand_in_ssh.read_text())['pid']
    endpoints.close()
    await eventually(lambda: not Path(f'/proc/{pid}').exists() or 'Z' in _state(pid), what='the ssh process ended')


def _state(pid: int) -> str:
    try:
        return Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0]
    except (OSError, IndexError):
        return 'Z'


async def test_a_terminal_over_ssh(stand_in_ssh: Path, make_container: Callable[..., str]) -> None:
    """A terminal reads what the shell prints as it comes (docker-py's ssh socket waited for a full 4 KB block, and
    ``select`` watched a socket that was never connected), and the shared connection still answers afterwards."""
    endpoint = Endpoint(id='build', name='Build', url='ssh://bho@build.example', ssh_key=KEY, known_hosts=KNOWN)
    name = make_container(name=f'berth-h3-ssh-{uuid.uuid4().hex[:8]}')
    endpoints = Endpoints([endpoint])
    screen: list[str] = []
    exits: list[int | None] = []
    session = Terminals(endpoints).session(
        ExecRequest(container_id=name),
        loop=asyncio.get_running_loop(),
        on_output=screen.append,
        on_exit=exits.append,
        endpoint='build',
    )
    await asyncio.to_thread(session.open, 24, 80)
    try:
        session.write('echo ssh-$((6*7))\n')
        await eventually(lambda: 'ssh-42' in ''.join(screen), what='the shell answers over ssh')
    finally:
        await asyncio.to_thread(session.close)
    assert (await asyncio.to_thread(endpoints.client('build').api.inspect_container, name))['State']['Running']
    endpoints.close()
