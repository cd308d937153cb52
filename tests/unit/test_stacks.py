"""core.stacks: compose's JSON progress folded per service, problems placed on their lines, the body policy on a
normalised file, the files and their versions, and which compose runs."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from components.stack_services import service_rows
from core.docker.endpoints import Endpoint
from core.jobs.bus import Bus
from core.jobs.locks import Locks
from core.jobs.store import JobUpdate
from core.operations.report import JobReporter
from core.operations.stacks import stack_operation
from core.protection import Protection
from core.stacks import policy
from core.stacks.actions import StackAction
from core.stacks.adopt import read_adoptable
from core.stacks.compose import ComposeMissing, find_compose
from core.stacks.env_file import mask_env
from core.stacks.events import DeployLog, parse_event, service_of
from core.stacks.listing import SERVICE_LABEL, StackRow
from core.stacks.problems import compose_problems, line_of, yaml_problems
from core.stacks.registry_auth import docker_config, image_registries
from core.stacks.store import StackError, StackFiles, Stacks, check_name
from core.state.containers import ContainerRow

# what compose v2.40.3 printed here for `up -d` of a stack whose image had to be pulled
UP_WITH_PULL = """\
{"id":"web","text":"Pulling"}
{"id":"9e47103a579c","parent_id":"web","text":"Already exists","percent":100}
{"id":"051b03871071","parent_id":"web","text":"Pulling fs layer"}
{"id":"051b03871071","parent_id":"web","text":"Downloading","current":32768,"total":3001171,"percent":1}
{"id":"051b03871071","parent_id":"web","text":"Downloading","current":1100000,"total":3001171,"percent":36}
{"id":"051b03871071","parent_id":"web","text":"Verifying Checksum"}
{"id":"051b03871071","parent_id":"web","text":"Download complete","percent":100}
{"id":"051b03871071","parent_id":"web","text":"Extracting","current":32768,"total":3001171,"percent":1}
{"id":"051b03871071","parent_id":"web","text":"Pull complete","percent":100}
{"id":"web","text":"Pulled"}
{"id":"Network shop_default","status":"Creating"}
{"id":"Network shop_default","status":"Created"}
{"id":"Container shop-web-1","status":"Creating"}
{"id":"Container shop-db-1","status":"Running"}
{"id":"Container shop-web-1","status":"Created"}
{"id":"Container shop-web-1","status":"Starting"}
{"id":"Container shop-web-1","status":"Started"}
{"id":"Container shop-web-1","status":"Waiting"}
{"id":"Container shop-web-1","status":"Healthy"}
"""


def test_compose_progress_is_folded_per_service_and_step() -> None:
    log = DeployLog('shop')
    for line in UP_WITH_PULL.splitlines():
        log.feed(line)
    web = log.services['web']
    assert web.steps == ['Pulling', 'Pulled', 'Creating', 'Created', 'Starting', 'Started', 'Waiting', 'Healthy']
    assert web.state == 'Healthy'
    assert {layer.id: layer.status for layer in web.layers.values()} == {
        '9e47103a579c': 'Already exists',
        '051b03871071': 'Pull complete',
    }
    assert web.pull_fraction == 1.0
    assert log.services['db'].steps == ['Running']
    assert log.services[''].steps == ['Creating', 'Created']  # the stack's own network
    lines = log.take_lines().splitlines()
    # one line per step, never one per byte of a download
    assert sum('051b03871071 Downloading' in line for line in lines) == 1
    assert 'web: Healthy' in lines and 'Network shop_default: Created' in lines
    assert log.take_lines() == ''
    detail = log.to_detail()
    assert [service['name'] for service in detail['services']][-1] == ''
    assert detail['errors'] == []


def test_a_pull_in_progress_reports_its_fraction_and_errors_are_kept() -> None:
    log = DeployLog('shop')
    log.feed('{"id":"a1","parent_id":"web","text":"Downloading","current":50,"total":100}')
    assert log.services['web'].pull_fraction == pytest.approx(0.25)
    log.feed('{"id":"web","text":"Error","status":"pull access denied for nope"}')
    log.feed('{"error":true,"message":"Error response from daemon: pull access denied for nope"}')
    log.feed('time="2025" level=warning msg="the attribute `version` is obsolete"')
    assert log.services['web'].error == 'pull access denied for nope'
    assert log.errors == ['web: pull access denied for nope', 'Error response from daemon: pull access denied for nope']
    assert 'time="2025" level=warning msg="the attribute `version` is obsolete"' in log.take_lines()


def test_events_and_service_names() -> None:
    assert parse_event('') is None
    event = parse_event('{"id":"Container shop-web-1","status":"Started"}')
    assert event is not None and (event.resource, event.name, event.status) == ('Container', 'shop-web-1', 'Started')
    assert service_of('shop-web-1', 'shop') == 'web'
    assert service_of('shop-api-gateway-12', 'shop') == 'api-gateway'
    assert service_of('my-proxy', 'shop', {'my-proxy': 'proxy'}) == 'proxy'


def test_yaml_errors_carry_their_line() -> None:
    problems = yaml_problems('services:\n  web:\n    image: busybox\n   command: [a\n')
    assert len(problems) == 1 and problems[0].line == 4 and str(problems[0]).startswith('line 4: invalid YAML')
    assert [str(problem) for problem in yaml_problems('- a\n- b\n')] == [
        'line 1: a compose file is a mapping (services: …) at the top level'
    ]
    assert yaml_problems('services: {}\n') == []


TEXT = (
    'services:\n  web:\n    image: busybox\n    labels:\n      com.example.team: x\n'
    '  db:\n    image: busybox\n    bogus: 1\n'
)


@pytest.mark.parametrize(
    'stderr, expected',
    [
        (
            "validating /tmp/x/compose.yaml: services.db additional properties 'bogus' not allowed",
            'line 8: services.db: unknown key bogus',
        ),
        ("validating /tmp/x/compose.yaml:  additional properties 'servics' not allowed", 'unknown key servics'),
        ('validating /tmp/x/compose.yaml: services.web.labels must be a mapping', 'line 4: services.web.labels must'),
        (
            'error while interpolating services.db.image: required variable TAG is missing a value: need a tag',
            'line 7: services.db.image: required variable TAG',
        ),
        ('failed to parse /tmp/x/compose.yaml: yaml: line 3: did not find expected key', 'line 3: invalid YAML'),
        ('service "db" refers to undefined network back: invalid compose project', 'line 6: service "db" refers'),
    ],
)
def test_compose_messages_are_placed_on_the_line_they_name(stderr: str, expected: str) -> None:
    [problem] = compose_problems(TEXT, stderr)
    assert str(problem).startswith(expected)


def test_a_dotted_path_finds_keys_that_hold_dots() -> None:
    assert line_of(TEXT, ['services', 'web', 'labels', 'com', 'example', 'team']) == 5
    assert line_of(TEXT, ['services', 'nope']) == 1  # the nearest enclosing key found
    assert line_of('a: [1, 2,\n  3]\n', ['a', '2']) == 2


NORMALISED = {
    'services': {
        'web': {
            'image': 'busybox',
            'privileged': True,
            'cap_add': ['NET_ADMIN'],
            'devices': [{'source': '/dev/fuse', 'target': '/dev/fuse', 'permissions': 'rwm'}],
            'network_mode': 'host',
            'pid': 'host',
            'security_opt': ['seccomp=unconfined'],
            'volumes': [
                {'type': 'bind', 'source': '/etc', 'target': '/host'},
                {'type': 'volume', 'source': 'data', 'target': '/data'},
                {'type': 'tmpfs', 'target': '/tmp'},
            ],
            'labels': {'berth.owner': 'someone'},
        },
        'db': {'image': 'busybox', 'volumes': [{'type': 'volume', 'source': 'data', 'target': '/data'}]},
        'builder': {'build': {'context': '/etc'}, 'ipc': 'container:other'},
    },
    'volumes': {'data': {'name': 'berth-data'}, 'fast': {'driver_opts': {'type': 'none', 'device': '/srv'}}},
    'secrets': {'key': {'file': '/etc/shadow'}},
}


def test_an_operator_is_refused_each_admin_only_option_naming_the_service() -> None:
    reasons = policy.refusals(NORMALISED, 'operator', protected_volumes={'berth-data'})
    assert 'service web: privileged: true — privileged mode needs the admin role' in reasons
    assert 'service web: cap_add — adding capabilities (NET_ADMIN) needs the admin role' in reasons
    assert 'service web: devices — host devices (/dev/fuse) need the admin role' in reasons
    assert 'service web: network_mode: host — the host network needs the admin role' in reasons
    assert 'service web: pid: host — the host PID namespace needs the admin role' in reasons
    assert 'service web: volumes — bind mounts of host paths (/etc) need the admin role' in reasons
    assert "service web: labels — Berth's own labels (berth.owner) need the admin role" in reasons
    assert 'service web: security_opt — only an admin may set security options' in reasons
    assert 'service db: volumes — mounting berth-data needs the admin role: Berth protects the data in it' in reasons
    assert "service builder: ipc: container:other — only an admin may join another container's namespace" in reasons
    assert 'service builder: build — only an admin may build images from files of the host' in reasons
    assert 'volume fast: driver_opts — only an admin may set volume driver options' in reasons
    assert 'secret key: file /etc/shadow — only an admin may use files of the host' in reasons
    assert policy.refusals(NORMALISED, 'admin') == []
    assert policy.refusals({'services': {'a': {'image': 'busybox'}}}, 'operator') == []
    assert policy.refusals({'services': {'a': {'image': 'busybox'}}}, 'viewer') == [
        'a viewer cannot create containers: that needs the operator role'
    ]


def test_files_outside_the_stack_are_refused_before_compose_reads_them() -> None:
    text = (
        'include: [/srv/other/compose.yaml]\nservices:\n  web:\n    image: busybox\n'
        '    env_file: [../secrets.env, local.env, {path: /etc/environment}]\n'
        '    extends: {file: ~/base.yaml, service: base}\n'
    )
    assert policy.path_refusals(text, 'operator') == [
        "include: /srv/other/compose.yaml — only an admin may name files outside the stack's directory",
        "service web: env_file: ../secrets.env — only an admin may name files outside the stack's directory",
        "service web: env_file: /etc/environment — only an admin may name files outside the stack's directory",
        "service web: extends.file: ~/base.yaml — only an admin may name files outside the stack's directory",
    ]
    assert policy.path_refusals(text, 'admin') == []


def test_secret_looking_env_values_are_masked() -> None:
    text = '# keys\nAPI_TOKEN=abc\nexport DB_PASSWORD=s3cret\nNAP=3700\nURL=https://u:p@host/x\nEMPTY_KEY=\n'
    assert mask_env(text) == (
        '# keys\nAPI_TOKEN=••••••••\nexport DB_PASSWORD=••••••••\nNAP=3700\nURL=••••••••\nEMPTY_KEY=\n'
    )


@pytest.mark.parametrize('name', ['..', 'a/b', '../x', 'Shop', '', '-x', 'a' * 64, 'x y'])
def test_a_stack_name_cannot_leave_its_directory(name: str) -> None:
    with pytest.raises(StackError, match='is not a valid stack name'):
        check_name(name)


def test_versions_are_numbered_diffed_with_secrets_masked(tmp_path: Path) -> None:
    stacks = Stacks(tmp_path / 'stacks')
    first = stacks.save_version(
        'shop', StackFiles(compose='services: {a: {image: x}}\n', env='TOKEN=one\n'), author='ada'
    )
    second = stacks.save_version(
        'shop', StackFiles(compose='services: {a: {image: y}}\n', env='TOKEN=two\n'), author='olga', message=' next '
    )
    assert (first.number, second.number, second.message) == (1, 2, 'next')
    assert [version.number for version in stacks.versions('shop')] == [2, 1]
    assert stacks.read('shop').env == 'TOKEN=two\n'
    assert stacks.version('shop', 1).compose == 'services: {a: {image: x}}\n'
    diff = stacks.diff('shop', 1, 2)
    assert '-services: {a: {image: x}}' in diff and '+services: {a: {image: y}}' in diff
    assert 'one' not in diff and 'two' not in diff  # both values masked: the diff says nothing changed
    assert stat.S_IMODE((tmp_path / 'stacks' / 'shop' / '.env').stat().st_mode) == 0o600
    assert stacks.names() == ['shop'] and stacks.overview()['shop'][0] == ['a']
    with pytest.raises(StackError, match='exists already'):
        stacks.create('shop', StackFiles(compose='services: {}\n'))
    with pytest.raises(StackError, match='has no version 9'):
        stacks.version('shop', 9)


def fake_compose(folder: Path, version: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / 'docker-compose'
    path.write_text(f'#!/bin/sh\necho {version}\n')
    path.chmod(0o755)
    return path


def test_a_recent_enough_cli_plugin_is_preferred_to_the_bundled_compose(tmp_path: Path) -> None:
    bundled = fake_compose(tmp_path / 'bundled', '2.40.3')
    plugin = fake_compose(tmp_path / 'plugins', '2.41.0')
    chosen = find_compose([str(tmp_path / 'plugins')], bundled)
    assert (chosen.path, chosen.source, chosen.version) == (plugin, 'plugin', '2.41.0')
    assert chosen.title == 'Docker Compose v2.41.0 (Docker CLI plugin)'
    fake_compose(tmp_path / 'old', 'v2.20.1')
    chosen = find_compose([str(tmp_path / 'old')], bundled)
    assert (chosen.source, chosen.version) == ('bundled', '2.40.3')
    with pytest.raises(ComposeMissing, match=r'v2\.40\.3 or later was not found'):
        find_compose([str(tmp_path / 'old')], False)


def test_the_bundled_compose_is_the_pinned_one() -> None:
    chosen = find_compose([], True)
    assert (chosen.source, chosen.version) == ('bundled', '2.40.3')


def test_compose_never_sees_the_panels_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv('BERTH_SECRET_KEY', 'do-not-leak')
    environment = find_compose([], fake_compose(tmp_path, '2.40.3')).environment('tcp://10.0.0.2:2376', tmp_path)
    assert 'BERTH_SECRET_KEY' not in environment and 'do-not-leak' not in environment.values()
    assert environment['DOCKER_HOST'] == 'tcp://10.0.0.2:2376' and environment['HOME'] == str(tmp_path)
    assert set(environment) <= {'PATH', 'TZ', 'LANG', 'LC_ALL', 'HOME', 'DOCKER_CONFIG', 'COMPOSE_ANSI', 'DOCKER_HOST'}
    assert os.environ['BERTH_SECRET_KEY'] == 'do-not-leak'


class Collected(Bus):
    def __init__(self) -> None:
        self.updates: list[JobUpdate] = []

    def publish(self, update: JobUpdate) -> None:
        self.updates.append(update)


def test_an_action_waits_for_the_stacks_lock_and_says_so_when_it_stays_taken() -> None:
    locks, bus = Locks(wait_seconds=0.1), Collected()
    reporter = JobReporter(bus, {'job_id': 'j1', 'kind': 'stack.stop', 'target': 'shop'})
    with locks.hold('stack:local:shop', 'the stack shop'):  # another job holds it
        stack_operation(
            Endpoint(id='local', name='local'), reporter, locks, StackAction.STOP, 'shop', {}, 'admin',
            Protection.discover, None,
        )  # fmt: skip
    assert [(update.status, update.message) for update in bus.updates] == [
        ('failed', 'the stack shop stayed busy for 0.1 seconds (another job holds it): try again')
    ]


def test_each_service_row_asks_the_registry_check_about_the_image_its_container_runs() -> None:
    def container(service: str, image_id: str) -> ContainerRow:
        return ContainerRow(
            id=f'id-{service}',
            name=f'demo-{service}-1',
            image=f'registry.example/{service}:1',
            state='running',
            labels={SERVICE_LABEL: service},
            image_id=image_id,
        )

    asked: list[tuple[str, str, str]] = []

    def check(endpoint: str, reference: str, image_id: str) -> bool | None:
        asked.append((endpoint, reference, image_id))
        return {'sha256:old': True, 'sha256:new': False}.get(image_id)

    stack = StackRow(
        name='demo',
        source='managed',
        containers=[container('app', 'sha256:old'), container('db', 'sha256:new'), container('cache', '')],
        services=['app', 'cache', 'db', 'worker'],
    )
    updates = {row['service']: row['update'] for row in service_rows(stack, check)}
    assert updates == {'app': 'update available', 'cache': 'unknown', 'db': 'up to date', 'worker': ''}
    assert ('local', 'registry.example/app:1', 'sha256:old') in asked


def test_registry_logins_reach_compose_in_a_private_config_removed_after_the_run() -> None:
    config = {'services': {'web': {'image': '127.0.0.1:5000/shop/web:1'}, 'db': {'image': 'postgres:16'}, 'x': {}}}
    assert image_registries(config) == ['127.0.0.1:5000', 'docker.io']
    logins = {
        '127.0.0.1:5000': {'username': 'ann', 'password': 's3cret'},
        'docker.io': {'username': 'b', 'password': 'p'},
    }
    with docker_config(logins) as folder:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        file = folder / 'config.json'
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
        assert json.loads(file.read_text()) == {
            'auths': {
                '127.0.0.1:5000': {'auth': base64.b64encode(b'ann:s3cret').decode()},
                'https://index.docker.io/v1/': {'auth': base64.b64encode(b'b:p').decode()},
            }
        }
    assert not folder.exists()


def test_adopting_copies_the_env_files_named_inside_the_stacks_directory_only(tmp_path: Path) -> None:
    folder, elsewhere = tmp_path / 'shop', tmp_path / 'elsewhere'
    (folder / 'config').mkdir(parents=True)
    elsewhere.mkdir()
    (folder / 'compose.yaml').write_text(
        'services:\n  web:\n    image: busybox\n    env_file:\n'
        '      - ./config/web.env\n      - {path: db.env, required: false}\n      - ../secrets.env\n'
        '      - /etc/hostname\n      - link.env\n      - ${HOME}/x.env\n      - missing.env\n'
    )
    (folder / '.env').write_text('A=1\n')
    (folder / 'config' / 'web.env').write_text('WEB=1\n')
    (folder / 'db.env').write_text('DB=1\n')
    (tmp_path / 'secrets.env').write_text('SECRET=1\n')
    (elsewhere / 'target.env').write_text('OUTSIDE=1\n')
    (folder / 'link.env').symlink_to(elsewhere / 'target.env')  # inside by its name, outside by where it points
    found = read_adoptable(folder / 'compose.yaml', ['web'])
    assert found.files.env == 'A=1\n'
    assert found.env_files == {'config/web.env': 'WEB=1\n', 'db.env': 'DB=1\n'}
    # And the store keeps them inside the stack's directory, never over its own files nor outside it
    stacks = Stacks(tmp_path / 'stacks')
    stacks.write_beside('shop', 'config/web.env', 'WEB=1\n')
    assert (tmp_path / 'stacks' / 'shop' / 'config' / 'web.env').read_text() == 'WEB=1\n'
    for bad in ('../x.env', '/tmp/x.env', '.env', 'compose.yaml', 'versions/0001/.env'):
        with pytest.raises(StackError):
            stacks.write_beside('shop', bad, 'X=1\n')
