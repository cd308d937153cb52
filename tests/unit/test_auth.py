import sqlite3

import pytest

from auth.accounts import Accounts
from auth.guard import Forbidden, Identity, require
from core.audit import AuditLog
from core.database import Database


def test_roles_are_ordered() -> None:
    operator = Identity(username='olga', role='operator')
    assert require(operator, 'viewer', 'read logs') is operator
    assert require(operator, 'operator', 'stop containers') is operator
    with pytest.raises(Forbidden, match='olga is a operator: manage users needs the admin role'):
        require(operator, 'admin', 'manage users')
    with pytest.raises(Forbidden, match='sign in'):
        require(None, 'viewer', 'see containers')


def test_first_admin_gets_a_random_password_and_hashes_are_argon2() -> None:
    database = Database(':memory:')
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
    database = Database(':memory:')
    accounts = Accounts(database)
    accounts.create('vera', 'a long password', 'viewer')
    database.execute('UPDATE users SET disabled = 1 WHERE username = ?', ('vera',))
    assert accounts.verify('vera', 'a long password') is None


def test_audit_log_is_append_only() -> None:
    database = Database(':memory:')
    audit = AuditLog(database)
    audit.record(username='alice', role='operator', action='container.stop', target='web', result='queued')
    assert [entry.action for entry in audit.entries()] == ['container.stop']
    with pytest.raises(sqlite3.DatabaseError, match='append-only'):
        database.execute('DELETE FROM audit')
    with pytest.raises(sqlite3.DatabaseError, match='append-only'):
        database.execute("UPDATE audit SET result = 'x'")
