"""core.protection, core.redaction and core.jobs.seal as pure functions."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.jobs.seal import JobClaims, JobRefused, JobSigner
from core.protection import Protection, body_reasons, own_container_id
from core.redaction import HIDDEN, MASK, redact_inspect

OWN = 'a' * 64
MOUNTINFO = (
    f'612 590 0:53 / / rw,relatime - overlay overlay rw\n'
    f'630 612 8:1 /var/lib/docker/containers/{OWN}/resolv.conf /etc/resolv.conf rw - ext4 /dev/sda1 rw\n'
    f'631 612 8:1 /var/lib/docker/containers/{OWN}/hostname /etc/hostname rw - ext4 /dev/sda1 rw\n'
)


def test_the_own_container_is_read_from_mountinfo(tmp_path: Path) -> None:
    (tmp_path / 'inside').write_text(MOUNTINFO)
    (tmp_path / 'outside').write_text('22 1 8:1 / / rw - ext4 /dev/sda1 rw\n')
    assert own_container_id(tmp_path / 'inside') == OWN
    assert own_container_id(tmp_path / 'outside') == ''
    assert own_container_id(tmp_path / 'missing') == ''


def test_protected_containers() -> None:
    protection = Protection(own_container_ids=frozenset({OWN}), own_projects=frozenset({'berth'}))
    assert protection.container_is_protected(OWN, {})
    assert protection.container_is_protected('b' * 64, {'com.docker.compose.project': 'berth'})
    assert protection.container_is_protected('b' * 64, {'berth.protected': 'True'})
    assert not protection.container_is_protected('b' * 64, {'berth.protected': 'false'})
    assert not protection.container_is_protected('b' * 64, {'com.docker.compose.project': 'shop'})


@pytest.mark.parametrize(
    ('host', 'mounts', 'reason'),
    [
        ({'Privileged': True}, [], 'privileged mode'),
        ({'CapAdd': ['SYS_ADMIN']}, [], 'added capabilities (SYS_ADMIN)'),
        ({'Devices': [{'PathOnHost': '/dev/kvm'}]}, [], 'host devices'),
        ({'PidMode': 'host'}, [], 'the host pid namespace'),
        ({'NetworkMode': 'host', 'IpcMode': 'host'}, [], 'the host network/ipc namespaces'),
        ({}, [{'Type': 'bind', 'Source': '/var/run/docker.sock'}], 'host paths mounted (/var/run/docker.sock)'),
        ({}, [{'Type': 'volume', 'Name': 'berth-data'}], "Berth's protected volumes mounted (berth-data)"),
    ],
)
def test_admin_only_bodies_need_an_admin_for_a_terminal(host: dict, mounts: list, reason: str) -> None:
    inspect = {'Id': 'c' * 64, 'Name': '/tool', 'HostConfig': host, 'Mounts': mounts, 'Config': {}}
    assert body_reasons(inspect, {'berth-data'}) == [reason]
    assert (
        Protection().terminal_refusal('operator', inspect, {'berth-data'})
        == f'a terminal in tool needs the admin role: it has {reason}'
    )
    assert Protection().terminal_refusal('admin', inspect, {'berth-data'}) == ''


def test_a_plain_body_is_open_to_operators() -> None:
    inspect = {
        'Id': 'c' * 64,
        'Name': '/web',
        'HostConfig': {'NetworkMode': 'bridge'},
        'Mounts': [{'Type': 'volume', 'Name': 'web-data'}],
        'Config': {},
    }
    assert Protection().terminal_refusal('operator', inspect, {'berth-data'}) == ''


def test_environment_by_role() -> None:
    data = {'Config': {'Env': ['PATH=/bin', 'DB_PASSWORD=hunter2', 'URL=postgres://u:p@db/x', 'FLAG']}}
    assert redact_inspect(data, values=False, reveal=False)['Config']['Env'] == [
        f'PATH={HIDDEN}',
        f'DB_PASSWORD={HIDDEN}',
        f'URL={HIDDEN}',
        'FLAG',
    ]
    assert redact_inspect(data, values=True, reveal=False)['Config']['Env'] == [
        'PATH=/bin',
        f'DB_PASSWORD={MASK}',
        f'URL={MASK}',
        'FLAG',
    ]
    assert redact_inspect(data, values=True, reveal=True)['Config']['Env'] == data['Config']['Env']
    assert data['Config']['Env'][1] == 'DB_PASSWORD=hunter2'  # a copy: the original stays as the daemon said


def test_jobs_are_signed_checked_and_claimed_once() -> None:
    signer = JobSigner(b'panel key')
    job = signer.sign({'job_id': '1', 'role': 'operator'}, ('kill', 'c1'), {'force': False})
    signer.verify(job, ('kill', 'c1'), {'force': False})
    for changed in ({**job, 'role': 'admin'}, {k: v for k, v in job.items() if k != 'signature'}):
        with pytest.raises(JobRefused):
            signer.verify(changed, ('kill', 'c1'), {'force': False})
    with pytest.raises(JobRefused, match='does not match'):
        signer.verify(job, ('remove', 'c1'), {'force': False})
    with pytest.raises(JobRefused, match='does not match'):
        JobSigner(b'another key').verify(job, ('kill', 'c1'), {'force': False})
    with pytest.raises(JobRefused, match='more than a day ago'):
        signer.verify(job, ('kill', 'c1'), {'force': False}, now=job['signed_at'] + 2 * 86400)
    claims = JobClaims()
    assert claims.claim('1') and not claims.claim('1') and claims.claim('2')
