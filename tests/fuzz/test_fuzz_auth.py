"""Sign-in and account inputs under hostile input: user names and passwords (auth/accounts.py) against both
databases, where a browser goes after sign-in (auth/redirect.py), and the names an account's environments get."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from urllib.parse import quote, urljoin, urlsplit

import psycopg
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from auth.accounts import Accounts, username_problem
from auth.redirect import checked_redirect
from core.environments.templates import EnvironmentNames
from core.storage.database import Database
from core.storage.postgres import PostgresDatabase
from core.storage.sqlite import SQLiteDatabase

from .strategies import assert_sentence, hostile_text

POSTGRES_URL = os.environ.get('BERTH_TEST_DATABASE_URL', 'postgresql://berth:berth@localhost:5432/berth_test')
CONTAINER_NAME = re.compile(r'[a-zA-Z0-9][a-zA-Z0-9_.-]+')  # the daemon's rule
C0_AND_SPACE = ''.join(map(chr, range(0x21)))
ARGON2 = settings(max_examples=3)  # every sign-in runs argon2 (tens of milliseconds): fewer, chosen examples


@pytest.fixture(scope='module', params=['sqlite', 'postgresql'])
def accounts(request: pytest.FixtureRequest) -> Iterator[Accounts]:
    database: Database
    schema = f'test_{uuid.uuid4().hex[:12]}'
    if request.param == 'sqlite':
        database = SQLiteDatabase(':memory:')
    else:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'CREATE SCHEMA {schema}'.encode())
        database = PostgresDatabase(f'{POSTGRES_URL}?options={quote(f"-csearch_path={schema}")}')
    accounts = Accounts(database)
    accounts.create('dana', 'a long password', 'developer')
    yield accounts
    database.close()
    if request.param == 'postgresql':
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA {schema} CASCADE'.encode())


@ARGON2
@given(hostile_text(), hostile_text())
@example('dana\x00', 'a long password')  # was: psycopg DataError (PostgreSQL refuses NUL in text)
@example('\ud800', 'x')  # was: UnicodeEncodeError from the database driver
@example('dana', '\ud800')  # was: UnicodeEncodeError from argon2
@example('dana', 'a long password\x00')
def test_sign_in(accounts: Accounts, username: str, password: str) -> None:
    """Whatever is typed (or sent over the socket) into the sign-in form: an account or 'wrong name or password'."""
    account = accounts.verify(username, password)
    assert account is None or (account.username == 'dana' and password == 'a long password')


@given(hostile_text())
@example('dana\x00')  # was: accepted by the admin page, then psycopg DataError
@example('\ud800')  # was: accepted, then UnicodeEncodeError
@example('a\x1b[31m')
def test_new_username(name: str) -> None:
    problem = username_problem(name)
    if problem is not None:
        assert_sentence(problem)
        return
    name.encode('utf-8')  # storable in both databases
    assert '\x00' not in name and name.strip() == name


@ARGON2
@given(hostile_text())
@example('ok-name')
def test_created_accounts_sign_in(accounts: Accounts, name: str) -> None:
    """A name the rule accepts can be created and signs in; one it refuses is refused by ``create`` too."""
    if username_problem(name) is not None:
        with pytest.raises(ValueError):
            accounts.create(name, 'pw', 'viewer')
        return
    if accounts.get(name) is None:
        accounts.create(name, 'pw', 'viewer')
    assert accounts.verify(name, 'pw') is not None


@given(st.one_of(hostile_text(), st.sampled_from(('/', '/containers', '//evil.example', '/\\evil.example'))))
@example('/\t/evil.example')
@example('/%2F/evil.example')
@example('\x00//evil.example')
@example(' //evil.example')
@example('/\u3002evil')
def test_redirect_stays_on_the_panel(target: str) -> None:
    """Where a browser lands after sign-in, resolved the way a browser does it (leading and trailing C0 controls and
    spaces stripped, tabs and newlines removed, '\\' read as '/'), is always this panel."""
    checked = checked_redirect(target)
    assert checked in ('/', target)
    browser = re.sub(r'[\t\n\r]', '', checked.strip(C0_AND_SPACE)).replace('\\', '/')
    assert urlsplit(urljoin('https://panel.example/login', browser)).netloc == 'panel.example'


@given(hostile_text(), hostile_text(), st.from_regex(r'[a-z0-9][a-z0-9-]{0,30}', fullmatch=True))
@example('issuer|\ud800', 'dana', 'work')  # was: UnicodeEncodeError hashing the owner id
def test_environment_names(owner_id: str, username: str, name: str) -> None:
    """Whatever an account is called, its environment's container and volumes get names the daemon accepts."""
    names = EnvironmentNames.of(owner_id=owner_id, username=username, name=name)
    for resource in (names.container, names.home_volume, names.extra_volume('cache')):
        assert CONTAINER_NAME.fullmatch(resource), resource
