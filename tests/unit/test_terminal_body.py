"""What in a running container's body keeps an operator's terminal out (core.protection), on inspect data as the
daemon reports it."""

from __future__ import annotations

from typing import Any

from core.protection import Protection

PLAIN_ON_CGROUP_V1: dict[str, Any] = {
    'Id': 'a' * 64,
    'Name': '/web',
    'Config': {'Labels': {}},
    'Mounts': [],
    'HostConfig': {
        'CgroupnsMode': 'host',
        'NetworkMode': 'default',
        'IpcMode': 'private',
        'PidMode': '',
        'UTSMode': '',
        'UsernsMode': '',
        'CapAdd': None,
    },
}


def body(**host: Any) -> dict[str, Any]:
    return {**PLAIN_ON_CGROUP_V1, 'HostConfig': {**PLAIN_ON_CGROUP_V1['HostConfig'], **host}}


def test_the_daemons_defaults_keep_nobody_out() -> None:
    assert Protection().terminal_refusal('operator', PLAIN_ON_CGROUP_V1) == ''


def test_host_namespaces_and_privileges_need_the_admin_role() -> None:
    protection = Protection()
    assert (
        protection.terminal_refusal('operator', body(NetworkMode='host', PidMode='host'))
        == 'a terminal in web needs the admin role: it has the host network/pid namespaces'
    )
    assert (
        protection.terminal_refusal('operator', body(Privileged=True))
        == 'a terminal in web needs the admin role: it has privileged mode'
    )
    assert protection.terminal_refusal('admin', body(Privileged=True)) == ''
