"""templates.yaml and runtimes.yaml (and the admin forms that share their readers) under hostile input: every entry is
saved or skipped with a sentence; the panel's start never fails on what the file says."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from core.commands.spec import SpecError
from core.environments.templates import Template, Templates
from core.sandbox.limits import LimitError
from core.sandbox.limits import Limits as RunLimits
from core.sandbox.runtimes import Runtime, Runtimes
from core.storage.sqlite import SQLiteDatabase

from .strategies import SCALARS, VALUES, assert_sentence, hostile_text

TEMPLATE = {'name': 'py', 'image': 'python:3.12', 'home': '/home/dev', 'cpus': 1, 'memory': '1g', 'idle_minutes': 30}
RUNTIME = {'name': 'py', 'image': 'python:3.12', 'command': 'python3 /sandbox/main.py', 'filename': 'main.py'}
TEMPLATE_KEYS = (*TEMPLATE, 'description', 'command', 'user', 'workdir', 'shell', 'environment', 'volumes', 'ports')
TEMPLATE_KEYS += ('public_ports', 'groups')
RUNTIME_KEYS = (*RUNTIME, 'description', 'user', 'limits')
LIMIT_KEYS = tuple(RunLimits.__dataclass_fields__)


def entries(keys: tuple[str, ...], base: dict[str, Any]) -> st.SearchStrategy[dict[Any, Any]]:
    """A mapping like ``base`` with some values replaced by anything YAML can hold, and sometimes a stray key."""
    replaced = st.dictionaries(st.sampled_from(keys), VALUES, max_size=4).map(lambda changes: {**base, **changes})
    stray = st.dictionaries(st.one_of(hostile_text(4), st.integers(), st.booleans()), SCALARS, max_size=2)
    return st.builds(lambda entry, extra: {**entry, **extra}, replaced, st.one_of(st.just({}), stray))


@pytest.fixture(scope='module')
def database() -> Iterator[SQLiteDatabase]:
    database = SQLiteDatabase(':memory:')
    yield database
    database.close()


@given(entries(TEMPLATE_KEYS, TEMPLATE))
@example({**TEMPLATE, 1: 'x'})  # was: TypeError sorting the unknown keys (int and str)
@example({**TEMPLATE, 'idle_minutes': 10**400})  # was: OverflowError (float of a huge YAML integer)
@example({**TEMPLATE, 'cpus': 10**400})
@example({**TEMPLATE, 'memory': 10**400})  # was: accepted (an int is taken as bytes), and refused by the daemon
@example({**TEMPLATE, 'command': 'sh -c "x'})
def test_template(entry: dict[Any, Any]) -> None:
    try:
        template = Template.from_mapping(entry, source='file')
    except SpecError as error:
        for message in error.errors.values():
            assert_sentence(message)
        return
    assert Template.from_json(template.to_json()) == template
    for reason in template.refusals():
        assert_sentence(reason)


@given(entries(RUNTIME_KEYS, RUNTIME), st.dictionaries(st.sampled_from(LIMIT_KEYS), VALUES, max_size=3))
@example(RUNTIME, {'timeout': ' '})  # was: "could not convert string to float: ''"
@example(RUNTIME, {'pids': 'many'})  # was: "could not convert string to float: 'many'"
@example(RUNTIME, {'pids': 10**400})  # was: OverflowError
@example(RUNTIME, {'cpus': 10**400})
@example({**RUNTIME, 1: 'x'}, {})
@example(RUNTIME, {1: 'x', 'a': 'y'})  # was: TypeError sorting the unknown limits
def test_runtime(entry: dict[Any, Any], limits: dict[Any, Any]) -> None:
    if limits:
        entry = {**entry, 'limits': limits}
    try:
        runtime = Runtime.from_mapping(entry, source='file')
    except SpecError as error:
        for message in error.errors.values():
            assert_sentence(message)
        return
    assert Runtime.from_json(runtime.to_json()) == runtime
    for reason in runtime.refusals():
        assert_sentence(reason)


@given(st.dictionaries(st.one_of(st.sampled_from(LIMIT_KEYS), hostile_text(4)), VALUES, max_size=4))
def test_run_limits(data: dict[str, Any]) -> None:
    try:
        RunLimits.from_mapping(data)
    except LimitError as error:
        for message in error.errors.values():
            assert_sentence(message)


@given(
    st.one_of(
        hostile_text(),
        st.lists(st.one_of(entries(TEMPLATE_KEYS, TEMPLATE), entries(RUNTIME_KEYS, RUNTIME), VALUES), max_size=3).map(
            lambda document: yaml.safe_dump(document, allow_unicode=False)
        ),
    )
)
@example('- ' + '[' * 1000)  # was: RecursionError out of yaml.safe_load, ending the panel's start
@example('- ' + '9' * 5000)  # was: ValueError (int() of 5000 digits) out of yaml.safe_load
@example('a: &a [*a, *a]')
@example('- \udcff')  # written as a lone surrogate: not UTF-8; was: UnicodeDecodeError out of the start
def test_seed_files(tmp_path_factory: pytest.TempPathFactory, database: SQLiteDatabase, document: str) -> None:
    """Whatever templates.yaml and runtimes.yaml say, the start goes on: each entry saved or named with a sentence."""
    folder = tmp_path_factory.mktemp('seed')
    for name, store in (('templates.yaml', Templates(database)), ('runtimes.yaml', Runtimes(database))):
        path = folder / name
        path.write_text(document, encoding='utf-8', errors='surrogatepass')
        for problem in store.seed(path):
            assert_sentence(problem)
        store.all()  # what was saved reads back
