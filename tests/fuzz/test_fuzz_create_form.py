"""The create-and-run form's parsers (core/commands/spec_form.py, spec.py, policy.py) under hostile input: a valid
value the daemon takes, or SpecError / ValueError with a sentence; never another exception."""

from __future__ import annotations

import json
import math
from typing import Any

import docker
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from core.commands import policy
from core.commands.spec import MIN_MEMORY, ContainerSpec, SpecError, create_arguments
from core.commands.spec_form import parse_cpus, parse_memory, parse_mount, parse_pairs, parse_port, spec_from_form
from core.permissions import ROLES

from .strategies import VALUES, assert_sentence, hostile_text

INT64 = 2**63 - 1  # the daemon's limit for memory and NanoCpus
TEXT_FIELDS = (
    'image',
    'name',
    'command',
    'environment',
    'labels',
    'ports',
    'mounts',
    'restart_policy',
    'restart_retries',
    'memory',
    'cpus',
    'network',
    'cap_add',
    'devices',
    'volume_driver',
    'volume_driver_options',
)
FLAGS = ('auto_remove', 'tty', 'stdin_open', 'start', 'privileged', 'pid_host', 'ipc_host')


@pytest.fixture(scope='module')
def api() -> docker.APIClient:
    """A client that never connects (the version is given): create_host_config is computed locally."""
    return docker.APIClient(base_url='unix:///nonexistent/docker.sock', version='1.41')


@given(hostile_text())
@example('9' * 5000)  # was: "Exceeds the limit (4300 digits) for integer string conversion"
@example('1:' + '9' * 5000)
def test_port(text: str) -> None:
    try:
        binding = parse_port(text)
    except ValueError as error:
        assert_sentence(str(error))
        assert str(error).startswith('port ')
        return
    assert 0 < binding.container_port < 65536 and 0 <= binding.host_port < 65536
    assert binding.protocol in ('tcp', 'udp', 'sctp')


@given(hostile_text())
def test_mount(text: str) -> None:
    try:
        mount = parse_mount(text)
    except ValueError as error:
        assert_sentence(str(error))
        return
    assert mount.target.startswith('/') and mount.kind in ('volume', 'bind')
    assert mount.kind == 'volume' or mount.source.startswith('/')


@given(hostile_text())
@example('9' * 400)  # was: OverflowError (float('9' * 400) is inf)
@example('9' * 40 + 't')  # was: a limit the daemon cannot hold (more than 2**63 bytes)
def test_memory(text: str) -> None:
    try:
        size = parse_memory(text)
    except ValueError as error:
        assert_sentence(str(error))
        return
    assert 0 <= size <= INT64


@given(hostile_text())
@example('1e300')  # was: inf NanoCpus, an OverflowError in create_arguments
@example('1e-300')  # was: accepted, and 0 NanoCpus is no limit at all
def test_cpus(text: str) -> None:
    try:
        cpus = parse_cpus(text)
    except ValueError as error:
        assert_sentence(str(error))
        return
    assert math.isfinite(cpus) and 0 <= cpus * 1e9 <= INT64
    assert cpus == 0 or int(cpus * 1e9) >= 10**7  # the daemon's minimum: 0.01 CPUs


@given(hostile_text(), st.sampled_from(('variable', 'label', 'option')))
def test_pairs(text: str, what: str) -> None:
    try:
        pairs = parse_pairs(text, what)
    except ValueError as error:
        assert_sentence(str(error))
        return
    assert all(key and not any(character.isspace() for character in key) for key in pairs)


@given(
    st.fixed_dictionaries({}, optional={name: hostile_text(8) for name in TEXT_FIELDS}), st.sets(st.sampled_from(FLAGS))
)
@example({'restart_retries': 'x'}, set())  # was: "invalid literal for int() with base 10: 'x'"
@example({'restart_retries': '-1'}, set())  # was: accepted, and refused by the daemon
@example({'command': 'sh -c "echo'}, set())  # was: "No closing quotation"
@example({'cpus': '1e300'}, set())  # was: OverflowError in create_arguments
@example({'memory': '9' * 400}, set())  # was: OverflowError
@example({'ports': '9' * 5000}, set())
def test_create_form(api: docker.APIClient, values: dict[str, str], flags: set[str]) -> None:
    """The whole form: a spec the daemon's request can be built from, that survives the job message, and that the
    body policy judges for every role; or a sentence per wrong field."""
    values = {'image': 'berth-test/busybox:latest', **values, **dict.fromkeys(flags, True)}
    try:
        spec = spec_from_form(values)
    except SpecError as error:
        assert error.errors
        for message in error.errors.values():
            assert_sentence(message)
        return
    arguments = create_arguments(api, spec)
    json.dumps(arguments)  # what docker-py sends as the request body
    host_config = arguments['host_config']
    assert 0 <= host_config.get('Memory', 0) <= INT64 and 0 <= host_config.get('NanoCpus', 0) <= INT64
    assert spec.memory == 0 or spec.memory >= MIN_MEMORY
    assert ContainerSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec  # the job message round trip
    for role in (*ROLES, 'nobody'):
        for reason in policy.refusals(spec, role):
            assert_sentence(reason)


SPEC_FIELDS = tuple(ContainerSpec.__dataclass_fields__)


@given(st.dictionaries(st.sampled_from(SPEC_FIELDS), VALUES, max_size=6))
@example({'ports': [{'container_port': 'x'}]})  # was: TypeError comparing str and int
@example({'name': 1})  # was: TypeError: expected string or bytes-like object
@example({'cpus': 'a lot'})  # was: TypeError: must be real number
@example({'mounts': [{'target': None}]})  # was: AttributeError: 'NoneType' object has no attribute 'startswith'
def test_spec_from_a_message(data: dict[str, Any]) -> None:
    """``ContainerSpec.from_dict`` reads what a worker is sent: any shape is a spec or a SpecError."""
    try:
        spec = ContainerSpec.from_dict({'image': 'berth-test/busybox:latest', **data})
    except SpecError as error:
        for message in error.errors.values():
            assert message.strip()
        return
    spec.validate()
