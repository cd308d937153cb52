import asyncio
import os
import sqlite3
import threading

import pytest

from auth.accounts import Accounts
from auth.rate_limit import LoginRateLimit
from auth.redirect import checked_redirect
from core.permissions import Forbidden, Identity, Permission, require
from core.storage.audit import AuditLog
from core.storage.sqlite import SQLiteDatabase


def test_roles_are_ordered() -> None:
    operator = Identity(username='olga', role='operator')
    assert require(operator, Permission.CONTAINER_LOGS, 'read logs') is operator
    assert require(operator, Permission.CONTAINER_LIFECYCLE, 'stop containers') is operator
    with pytest.raises(Forbidden, match='olga is an operator: manage users needs the admin role'):
        require(operator, Permission.USERS_MANAGE, 'manage users')
    with pytest.raises(Forbidden, match='sign in'):
        require(None, Permission.CONTAINER_READ, 'see containers')


def test_first_admin_gets_a_random_password_and_hashes_are_argon2() -> None:
    database = SQLiteDatabase(':memory:')
    accounts = Accounts(database)
    generated = accounts.ensure_first_admin(None)
    assert generated and len(generated) >= 12
    assert accounts.ensure_first_admin(None) is None  # only once
    stored = database.query('SELECT password_hash FROM users')[0]['password_hash']
    assert stored.startswith('$argon2') and generated not in stored
    assert accounts.verify('admin', generated) is not None
    assert accounts.verify('admin', 'admin') is None
    assert accounts.verify('nobody', generated) is None


def test_disabled_account_cannot_sign_in() -> None:
    database = SQLiteDatabase(':memory:')
    accounts = Accounts(database)
    accounts.create('vera', 'a long password', 'viewer')
    database.execute('UPDATE users SET disabled = 1 WHERE username = ?', ('vera',))
    assert accounts.verify('vera', 'a long password') is None


def test_audit_log_is_append_only() -> None:
    database = SQLiteDatabase(':memory:')
    audit = AuditLog(database)
    audit.record(username='alice', role='operator', action='container.stop', target='web', result='queued')
    audit.record(username='alice', role='operator', action='image.pull', target='x', result='queued', endpoint='edge')
    assert [(entry.action, entry.endpoint) for entry in audit.entries()] == [
        ('image.pull', 'edge'),
        ('container.stop', 'local'),
    ]
    with pytest.raises(sqlite3.DatabaseError, match='append-only'):
        database.execute('DELETE FROM audit')
    with pytest.raises(sqlite3.DatabaseError, match='append-only'):
        database.execute("UPDATE audit SET result = 'x'")


def test_failed_sign_ins_are_limited_per_user_and_address_and_per_address() -> None:
    limit = LoginRateLimit(per_user_and_address=3, per_address=5, window_seconds=60)
    for _ in range(3):
        assert limit.retry_after('alice', '10.0.0.1') == 0
        limit.failed('alice', '10.0.0.1')
    assert limit.retry_after('Alice', '10.0.0.1') > 0  # this user from this address waits
    assert limit.retry_after('alice', '10.0.0.2') == 0  # from an address that has not failed, alice still may
    assert limit.retry_after('bob', '10.0.0.1') == 0  # another user from the same address still may
    limit.failed('bob', '10.0.0.1')
    limit.failed('carol', '10.0.0.1')
    assert limit.retry_after('dave', '10.0.0.1') > 0  # five failures from one address lock the address
    assert limit.retry_after('dave', '10.0.0.9') == 0


def test_nobody_can_lock_an_account_from_everywhere() -> None:
    limit = LoginRateLimit(per_user_and_address=5, per_address=20, window_seconds=60)
    # Given an attacker failing for admin from many addresses (or spoofed ones)
    for attempt in range(200):
        limit.failed('admin', f'203.0.113.{attempt % 50}')
    # Then admin from an address that has not failed is not held back
    assert limit.retry_after('admin', '10.0.0.1') == 0
    # And a success forgets that address's earlier failures for that user
    for _ in range(4):
        limit.failed('admin', '10.0.0.1')
    limit.succeeded('admin', '10.0.0.1')
    limit.failed('admin', '10.0.0.1')
    assert limit.retry_after('admin', '10.0.0.1') == 0


@pytest.mark.parametrize(
    'target',
    [
        '/\\evil.example/phish',
        '/\t/evil.example/x',
        '/\\\\evil.example/',
        '//evil.example/',
        'http://evil.example/',
        'evil.example',
        '/x\n/y',
        '',
    ],
)
def test_redirect_after_sign_in_stays_on_this_panel(target: str) -> None:
    # the first three are /login?redirect_to=/%5Cevil.example/phish, /%09/evil.example/x and /%5C%5Cevil.example/
    assert checked_redirect(target) == '/'  # the dashboard


def test_redirect_after_sign_in_keeps_a_path_of_this_panel() -> None:
    assert checked_redirect('/containers/web/logs?since=10m') == '/containers/web/logs?since=10m'
    assert checked_redirect('/admin/audit') == '/admin/audit'


async def test_hashing_runs_on_one_niced_thread_off_the_loop() -> None:
    accounts = Accounts(SQLiteDatabase(':memory:'))

    def where() -> tuple[str, int]:
        return threading.current_thread().name, os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    places = await asyncio.gather(*(accounts.off_loop(where) for _ in range(4)))
    assert {name.split('_')[0] for name, _ in places} == {'berth-argon2'}  # one thread: a rush of sign-ins queues
    assert all(niceness >= os.getpriority(os.PRIO_PROCESS, 0) + 10 for _, niceness in places)  # yields to the loop
