"""Dev environments without an engine: names, who may use a template, the signed create request, the worker's own
checks of the role and the template's body, and where a developer lands after signing in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auth.accounts import Accounts
from auth.redirect import landing
from core.environments.environment import CreateRequest, Environment, check_name, terminal_labels, usable_by
from core.environments.templates import EnvironmentNames, Template
from core.jobs.locks import Locks
from core.operations import environments
from core.operations.environments import Refused, environment_spec
from core.permissions import Identity
from core.state.containers import ContainerRow
from core.storage.sqlite import SQLiteDatabase

PYTHON = Template.from_mapping(
    {'name': 'python', 'image': 'python:3.12', 'home': '/home/dev', 'cpus': 1, 'memory': '1g', 'idle_minutes': 30}
)
DANA = Identity(username='dana', role='developer', subject='https://idp|dana', groups=('staff',))


def test_an_environment_name_must_be_able_to_name_its_container_and_volumes() -> None:
    assert check_name(' work.2 ') == 'work.2'
    for wrong in ('', '-x', 'a b', 'x' * 41, 'ü'):
        with pytest.raises(ValueError, match='is not a valid environment name'):
            check_name(wrong)


def test_a_template_for_groups_is_for_people_in_one_of_them_and_for_operators() -> None:
    limited = Template.from_mapping(
        {'name': 'gpu', 'image': 'x', 'home': '/h', 'cpus': 1, 'memory': '1g', 'idle_minutes': 0, 'groups': 'ml, ops'}
    )
    assert usable_by(PYTHON, DANA) and not usable_by(limited, DANA)
    assert usable_by(limited, Identity(username='m', role='developer', subject='x|m', groups=('ops',)))
    assert usable_by(limited, Identity(username='olga', role='operator'))


def test_the_create_request_travels_as_data_and_comes_back_checked() -> None:
    request = CreateRequest(name='work', owner=DANA.owner_id, username='dana', template=PYTHON)
    assert CreateRequest.from_dict(request.to_dict()) == request
    assert request.names == EnvironmentNames.of(owner_id=DANA.owner_id, username='dana', name='work')
    with pytest.raises(ValueError, match='malformed'):
        CreateRequest.from_dict({'name': 'work'})
    with pytest.raises(ValueError, match='not a valid environment name'):
        CreateRequest.from_dict({**request.to_dict(), 'name': '../x'})


def test_the_worker_refuses_a_role_that_may_not_create_for_that_owner() -> None:
    params: dict[str, Any] = {
        'request': CreateRequest(name='work', owner=DANA.owner_id, username='dana', template=PYTHON).to_dict(),
        'requester': DANA.owner_id,
    }
    for role, requester in (('viewer', DANA.owner_id), ('developer', 'https://idp|eve'), ('', DANA.owner_id)):
        with pytest.raises(Refused, match='cannot create environments for someone else'):
            environments.create(None, {**params, 'requester': requester}, role, set(), Locks())  # type: ignore[arg-type]


def test_the_worker_checks_the_body_again_with_the_volumes_it_finds_protected() -> None:
    names = EnvironmentNames.of(owner_id=DANA.owner_id, username='dana', name='work')
    cached = Template.from_mapping({**_mapping(PYTHON), 'volumes': ['cache:/cache']})
    spec = environment_spec(cached, names, DANA.owner_id, 'work', set())
    assert spec.labels['berth.owner'] == DANA.owner_id and spec.labels['berth.workdir'] == '/home/dev'
    assert [mount.source for mount in spec.mounts] == [names.home_volume, names.extra_volume('cache')]
    with pytest.raises(Refused, match=f'mounting {names.extra_volume("cache")} needs the admin role'):
        environment_spec(cached, names, DANA.owner_id, 'work', {names.extra_volume('cache')})


def test_an_environment_is_read_from_its_container_labels() -> None:
    labels = {
        'berth.owner': DANA.owner_id,
        'berth.environment': 'work',
        'berth.template': 'python',
        **terminal_labels(Template.from_mapping({**_mapping(PYTHON), 'shell': '/bin/zsh', 'user': 'dev'})),
    }
    row = ContainerRow(id='a' * 64, name='env-dana-work', image='python:3.12', state='running', labels=labels)
    environment = Environment.of(row)
    assert environment is not None
    assert (environment.name, environment.owner, environment.shell, environment.user, environment.workdir) == (
        'work',
        DANA.owner_id,
        '/bin/zsh',
        'dev',
        '/home/dev',
    )
    assert Environment.of(ContainerRow(id='b' * 64, name='web', image='x', state='running')) is None


def test_a_developer_lands_on_its_environments_unless_it_asked_for_a_page() -> None:
    assert landing('/', 'developer') == '/environments'  # the dashboard, the default, is not theirs
    assert landing('/recordings', 'developer') == '/recordings'
    assert landing('/', 'viewer') == '/'
    assert landing('/containers', 'viewer') == '/containers'


def _mapping(template: Template) -> dict[str, Any]:
    return {
        'name': template.name,
        'image': template.image,
        'home': template.home,
        'cpus': template.cpus,
        'memory': template.memory,
        'idle_minutes': template.idle_minutes,
    }


def test_the_groups_of_the_last_sso_sign_in_are_kept_on_the_account(tmp_path: Path) -> None:
    accounts = Accounts(SQLiteDatabase(tmp_path / 'berth.sqlite3'))
    assert accounts.upsert_external('dana', 'developer', source='oidc', subject='i|d', groups=('staff', 'ml')) == ''
    assert accounts.get('dana').groups == ('ml', 'staff')  # type: ignore[union-attr]
    assert accounts.upsert_external('dana', 'developer', source='oidc', subject='i|d', groups=('ops',)) == ''
    assert accounts.cached('dana').groups == accounts.get('dana').groups == ('ops',)  # type: ignore[union-attr]
