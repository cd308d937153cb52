"""Body-level policy for creating containers, and the create form's parsing, as pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from core.commands.policy import refusals, refusals_by_field
from core.commands.spec import ContainerSpec, MountSpec, SpecError
from core.commands.spec_form import parse_memory, parse_mount, parse_port, spec_from_form

PLAIN = {'image': 'berth-test/busybox:latest'}
ADMIN_ONLY: dict[str, tuple[dict[str, Any], str]] = {
    'privileged': ({'privileged': True}, 'privileged mode'),
    'capabilities': ({'cap_add': ['SYS_ADMIN']}, 'adding capabilities (SYS_ADMIN)'),
    'devices': ({'devices': ['/dev/fuse']}, 'host devices (/dev/fuse)'),
    'host network': ({'network': 'host'}, 'the host network'),
    'host pid': ({'pid_mode': 'host'}, 'the host PID namespace'),
    'host ipc': ({'ipc_mode': 'host'}, 'the host IPC namespace'),
    'bind mount': (
        {'mounts': [{'target': '/x', 'source': '/var/run/docker.sock', 'kind': 'bind'}]},
        'bind mounts of host paths (/var/run/docker.sock)',
    ),
    'volume driver options': ({'volume_driver_options': {'device': '/etc'}}, 'volume driver options'),
}


def spec(**values: Any) -> ContainerSpec:
    return ContainerSpec.from_dict({**PLAIN, **values})


@pytest.mark.parametrize('case', list(ADMIN_ONLY))
def test_admin_only_fields(case: str) -> None:
    values, what = ADMIN_ONLY[case]
    reasons = refusals(spec(**values), 'operator')
    assert len(reasons) == 1 and reasons[0].startswith(what) and reasons[0].endswith('admin role')
    assert refusals(spec(**values), 'admin') == []
    assert refusals(spec(**values), 'viewer') == ['a viewer cannot create containers: that needs the operator role']


def test_an_operator_may_create_an_ordinary_container() -> None:
    ordinary = spec(
        name='web',
        ports=[{'container_port': 80, 'host_port': 8080}],
        environment={'A': '1'},
        mounts=[{'target': '/data', 'source': 'web-data'}, {'target': '/scratch'}],
        memory=64 << 20,
        cpus=0.5,
        restart_policy='always',
        network='bridge',
        labels={'team': 'blue'},
    )
    assert refusals(ordinary, 'operator') == []


def test_every_refusal_is_listed_and_unknown_roles_are_refused() -> None:
    everything = spec(**{key: value for values, _ in ADMIN_ONLY.values() for key, value in values.items()})
    assert len(refusals(everything, 'operator')) == len(ADMIN_ONLY)
    assert refusals(spec(), None) and refusals(spec(), 'root')


def test_a_message_with_fields_the_form_lacks_is_refused() -> None:
    with pytest.raises(SpecError, match='unknown fields: security_opt'):
        ContainerSpec.from_dict({**PLAIN, 'security_opt': ['apparmor=unconfined']})
    with pytest.raises(SpecError, match='PID namespace'):
        ContainerSpec.from_dict({**PLAIN, 'pid_mode': 'container:other'})


def test_the_form_gives_each_wrong_field_a_sentence() -> None:
    with pytest.raises(SpecError) as error:
        spec_from_form(
            {
                'image': 'ngin x',
                'name': '-x',
                'ports': '80:80/xyz',
                'memory': 'lots',
                'cpus': '-1',
                'mounts': 'data:relative',
                'environment': 'bad key=1',
                'command': 'sh -c "unclosed',
            }
        )
    assert error.value.errors == {
        'image': "image reference 'ngin x' is not valid: spaces are not allowed",
        'command': 'the command has a quote that is never closed or ends with a lone backslash: '
        'close each " or \' and write \\\\ for a backslash',
        'environment': "'bad key=1' is not valid: write one variable per line as NAME=value",
        'ports': "port '80:80/xyz' is not valid: the protocol must be tcp, udp or sctp",
        'mounts': "mount 'data:relative' is not valid: the path in the container must start with '/'",
        'memory': "'lots' is not a memory size: write e.g. 512m or 1g",
        'cpus': 'the CPU limit must be more than 0',
    }
    with pytest.raises(SpecError) as error:
        spec_from_form({'image': 'app', 'name': '-x', 'auto_remove': True, 'restart_policy': 'always'})
    assert set(error.value.errors) == {'name', 'auto_remove'}


@pytest.mark.parametrize(
    ('text', 'expected'),
    [
        ('8080:80', '8080:80/tcp'),
        ('127.0.0.1:8080:80/udp', '127.0.0.1:8080:80/udp'),
        ('53/udp', ':53/udp'),
        ('127.0.0.1::80', '127.0.0.1::80/tcp'),
        ('[::1]:8080:80', '[::1]:8080:80/tcp'),
    ],
)
def test_ports(text: str, expected: str) -> None:
    assert str(parse_port(text)) == expected


@pytest.mark.parametrize(
    ('text', 'reason'),
    [
        ('8000-8010:80', 'ranges are not supported'),
        ('0', 'from 1 to 65535'),
        ('70000:80', 'from 1 to 65535'),
        ('1.2.3.999:80:80', 'not an IP'),
        ('web', 'write host:container'),
    ],
)
def test_bad_ports(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_port(text)


def test_mounts_and_memory() -> None:
    assert parse_mount('/srv/site:/usr/share/site:ro').kind == 'bind'
    assert parse_mount('site:/usr/share/site').kind == 'volume'
    assert parse_mount('/scratch').source == ''
    with pytest.raises(ValueError, match='must be absolute'):
        parse_mount('./site:/x')
    assert (parse_memory('512m'), parse_memory('1GiB'), parse_memory(''), parse_memory('100')) == (
        512 << 20,
        1 << 30,
        0,
        100,
    )


@pytest.mark.parametrize('cpus', ['nan', 'inf', '-inf', 'NaN'])
def test_cpus_must_be_a_finite_number(cpus: str) -> None:
    with pytest.raises(SpecError) as refusal:
        spec_from_form({'image': 'busybox', 'cpus': cpus})
    assert refusal.value.errors == {'cpus': f"'{cpus}' is not a number of CPUs: write e.g. 0.5 or 2"}
    with pytest.raises(SpecError, match='the CPU limit must be a positive number'):
        ContainerSpec.from_dict({'image': 'busybox', 'cpus': float(cpus)})


def test_protected_volumes_and_berth_labels_need_an_admin() -> None:
    spec = ContainerSpec(
        image='busybox',
        labels={'Berth.owner': 'x'},
        mounts=[MountSpec(target='/d', source='berth-data'), MountSpec(target='/e', source='mine')],
    )
    assert refusals_by_field(spec, 'operator', {'berth-data', 'other'}) == {
        'mounts': 'mounting berth-data needs the admin role: Berth protects the data in it',
        'labels': "Berth's own labels (Berth.owner) need the admin role",
    }
    assert refusals_by_field(spec, 'admin', {'berth-data'}) == {}
