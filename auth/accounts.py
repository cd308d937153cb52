"""Local accounts with argon2 hashes; the first admin is created at first start, never with a known password."""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.permissions import ROLES
from core.storage.database import Database

log = logging.getLogger(__name__)
_hasher = PasswordHasher()
# verifying against this keeps the time of a login for an unknown user close to a known one
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(kw_only=True, slots=True)
class Account:
    username: str
    role: str
    source: str
    disabled: bool


class Accounts:
    def __init__(self, database: Database) -> None:
        self.database = database

    def ensure_first_admin(self, password: str | None) -> str | None:
        """Creates ``admin`` if there is no local account yet; returns the generated password to print once."""
        if self.database.query("SELECT 1 FROM users WHERE source = 'local' LIMIT 1"):
            return None
        generated = None
        if not password:
            password = generated = secrets.token_urlsafe(12)
        self.create('admin', password, 'admin')
        return generated

    def create(self, username: str, password: str, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f'unknown role {role!r}')
        self.database.execute(
            'INSERT INTO users (username, password_hash, role, source, disabled, created_at) '
            "VALUES (?, ?, ?, 'local', 0, ?)",
            (username, _hasher.hash(password), role, time.time()),
        )

    def upsert_external(self, username: str, role: str, *, source: str) -> bool:
        """Creates or updates an SSO account with the role from this sign-in; False when disabled or taken locally."""
        account = self.get(username)
        if account is None:
            self.database.execute(
                'INSERT INTO users (username, password_hash, role, source, disabled, created_at) '
                'VALUES (?, NULL, ?, ?, 0, ?)',
                (username, role, source, time.time()),
            )
            return True
        if account.disabled or account.source != source:
            return False
        self.database.execute('UPDATE users SET role = ? WHERE username = ?', (role, username))
        return True

    def all(self) -> list[Account]:
        rows = self.database.query('SELECT username, role, source, disabled FROM users ORDER BY username')
        return [Account(**{**row, 'disabled': bool(row['disabled'])}) for row in rows]

    def set_role(self, username: str, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f'unknown role {role!r}')
        self.database.execute('UPDATE users SET role = ? WHERE username = ?', (role, username))

    def set_disabled(self, username: str, disabled: bool) -> None:
        self.database.execute('UPDATE users SET disabled = ? WHERE username = ?', (int(disabled), username))

    def set_password(self, username: str, password: str) -> None:
        self.database.execute(
            "UPDATE users SET password_hash = ? WHERE username = ? AND source = 'local'",
            (_hasher.hash(password), username),
        )

    def get(self, username: str) -> Account | None:
        rows = self.database.query('SELECT username, role, source, disabled FROM users WHERE username = ?', (username,))
        return Account(**{**rows[0], 'disabled': bool(rows[0]['disabled'])}) if rows else None

    def verify(self, username: str, password: str) -> Account | None:
        """The account when the password is right and the account is enabled; None otherwise."""
        rows = self.database.query("SELECT * FROM users WHERE username = ? AND source = 'local'", (username,))
        stored = rows[0]['password_hash'] if rows else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if not rows or rows[0]['disabled']:
            return None
        return self.get(username)
