"""core.environments.templates: templates from the admin form or templates.yaml, with a sentence per wrong field,
turned into an environment's create request that passes the body policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.commands import policy
from core.commands.spec import SpecError
from core.environments.templates import KEEP_RUNNING, EnvironmentNames, Template, Templates, environment_labels
from core.storage.sqlite import SQLiteDatabase

PYTHON = {'name': 'python', 'image': 'python:3.12', 'home': '/home/dev', 'cpus': 2, 'memory': '1g', 'idle_minutes': 30}


def test_the_least_a_template_says_becomes_a_limited_environment_with_its_home() -> None:
    template = Template.from_mapping(PYTHON)
    assert (template.cpus, template.memory, template.idle_minutes) == (2.0, 2**30, 30)
    names = EnvironmentNames.of(owner_id='https://idp|dana-42', username='dana@example.test', name='work')
    labels = environment_labels(owner_id='https://idp|dana-42', name='work', template='python')
    spec = template.container_spec(
        container_name=names.container, home_volume=names.home_volume, extra_volumes={}, labels=labels
    )
    assert spec.name == 'env-dana-example.test-work'
    assert [(mount.source, mount.target) for mount in spec.mounts] == [(names.home_volume, '/home/dev')]
    assert spec.command == KEEP_RUNNING and (spec.memory, spec.cpus) == (2**30, 2.0)
    assert spec.labels['berth.owner'] == 'https://idp|dana-42'
    # the home volume's name follows the stable owner id and the environment's name, never the user name
    renamed = EnvironmentNames.of(owner_id='https://idp|dana-42', username='dana.k', name='work')
    other = EnvironmentNames.of(owner_id='https://idp|eve-7', username='dana@example.test', name='work')
    assert renamed.home_volume == names.home_volume != other.home_volume


def test_ports_are_published_on_localhost_unless_the_admin_says_otherwise() -> None:
    local = Template.from_mapping({**PYTHON, 'ports': ['8888', '3000/udp']})
    assert [(port.host_ip, port.container_port, port.protocol) for port in local.port_bindings()] == [
        ('127.0.0.1', 8888, 'tcp'),
        ('127.0.0.1', 3000, 'udp'),
    ]
    public = Template.from_mapping({**PYTHON, 'ports': '8888', 'public_ports': True})
    assert [port.host_ip for port in public.port_bindings()] == ['']
    with pytest.raises(SpecError, match="address is chosen by 'public ports'"):
        Template.from_mapping({**PYTHON, 'ports': ['0.0.0.0:8888:8888']})


@pytest.mark.parametrize(
    ('change', 'sentence'),
    [
        ({'memory': 'lots'}, "'lots' is not a memory size"),
        ({'memory': '1m'}, 'memory limit of at least 6 MB'),
        ({'cpus': 'two'}, "'two' is not a number of CPUs"),
        ({'home': 'home'}, "'home' is not an absolute path"),
        ({'home': '/'}, 'not the root'),
        ({'image': 'UPPER:case'}, 'image'),
        ({'name': '-x'}, 'is not a valid template name'),
        ({'idle_minutes': 1.5}, 'not a whole number of minutes'),
        ({'volumes': ['cache']}, "'cache' is not valid: write name:/path"),
        ({'privileged': True}, 'unknown fields: privileged'),
        ({'image': ''}, 'missing image'),
    ],
)
def test_a_wrong_field_gets_a_sentence(change: dict[str, object], sentence: str) -> None:
    with pytest.raises(SpecError, match=sentence):
        Template.from_mapping({**PYTHON, **change})


def test_a_template_body_is_one_an_operator_could_create(monkeypatch: pytest.MonkeyPatch) -> None:
    template = Template.from_mapping({**PYTHON, 'volumes': ['cache:/cache']})
    assert template.refusals() == []
    monkeypatch.setattr(policy, 'refusals', lambda spec, role, protected=(): [f'checked as {role}'])
    assert template.refusals() == ['checked as operator']


def test_templates_yaml_seeds_the_database_and_says_what_it_skipped(tmp_path: Path) -> None:
    templates = Templates(SQLiteDatabase(tmp_path / 'berth.sqlite3'))
    path = tmp_path / 'templates.yaml'
    assert templates.seed(path) == []  # no file: nothing to do
    path.write_text(
        """
- name: python
  image: python:3.12
  home: /home/dev
  cpus: 1.5
  memory: 2g
  idle_minutes: 45
  shell: /bin/bash
  environment: {PIP_INDEX_URL: "https://pypi.example"}
- name: broken
  image: busybox
  home: /home/dev
  cpus: 1
  memory: a lot
  idle_minutes: 10
- just a string
"""
    )
    problems = templates.seed(path)
    assert problems == [
        "templates.yaml, template broken: memory: 'a lot' is not a memory size: write e.g. 512m or 1g",
        'templates.yaml, template 3: not a mapping',
    ]
    python = templates.get('python')
    assert (
        python is not None
        and python.source == 'file'
        and python.environment == {'PIP_INDEX_URL': 'https://pypi.example'}
    )
    assert [template.name for template in templates.all()] == ['python']
    path.write_text('name: python')
    assert templates.seed(path) == [
        'templates.yaml must be a list of templates (mappings with name, image, home, cpus, memory, ...)'
    ]
