"""Local accounts with argon2 hashes; the first admin is created at first start, never with a known password.

The one place that changes accounts. The checks made on every request, socket event and keystroke read
:meth:`Accounts.cached`: what the last change made here, or the last :meth:`Accounts.refresh` (the session sweep, off
the loop, every few seconds: changes made outside this panel) left in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.permissions import ROLES
from core.storage.database import Database

log = logging.getLogger(__name__)
_hasher = PasswordHasher()
T = TypeVar('T')
COLUMNS = 'username, role, source, disabled, subject, sso_groups'
HASHING_NICENESS = 10  # the hashing thread yields the CPU to the event loop (and to what it threads argon2's lanes on)


USERNAME_LIMIT = 64


def username_problem(name: str) -> str | None:
    """None when ``name`` may be a local account's name; else the sentence saying why not. Names end up in owner
    labels, container names, audit entries and both databases (PostgreSQL refuses NUL in text), so they are printable
    text: no spaces, control characters or lone surrogates."""
    if not name or len(name) > USERNAME_LIMIT:
        return f'A username needs 1 to {USERNAME_LIMIT} characters.'
    if any(character.isspace() for character in name):
        return 'A username cannot contain spaces.'
    if not name.isprintable():
        return 'A username can only contain printable characters (no control characters).'
    return None


def _storable(text: str) -> bool:
    """Can ``text`` be a query parameter in both databases (UTF-8, no NUL)?"""
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        return False
    return '\x00' not in text


def _lower_priority() -> None:
    with contextlib.suppress(OSError, AttributeError):  # Linux: the nice value is per thread
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


@dataclass(kw_only=True, slots=True, frozen=True)
class Account:
    username: str
    role: str
    source: str
    disabled: bool
    subject: str = ''  # an SSO account's stable identity (issuer|sub); '' for a local account
    groups: tuple[str, ...] = ()  # the groups claim of its last SSO sign-in (templates may be limited to some)

    @property
    def owner_id(self) -> str:
        """What owned resources carry (``berth.owner``): never the display name of an SSO account, which the identity
        provider may give to someone else later; a local account's name is its id."""
        return self.subject or f'local:{self.username}'


class Accounts:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._known: dict[str, Account] = {}  # username → the account as the last change or refresh left it
        self._changes = 0  # counts changes made here, so that a read begun before one is not kept
        # argon2 takes ~100 ms of CPU on up to 4 lanes: one niced thread does all of it, so a rush of sign-ins queues
        # there instead of taking both cores from the event loop
        self._hashing = ThreadPoolExecutor(1, thread_name_prefix='berth-argon2', initializer=_lower_priority)

    async def off_loop(self, method: Callable[..., T], *args: Any) -> T:
        """Runs a method that hashes (``verify``, ``create``, ``set_password``) on the hashing thread."""
        return await asyncio.get_running_loop().run_in_executor(self._hashing, functools.partial(method, *args))

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
        """Hashes with argon2 (tens of milliseconds of CPU): call it off the event loop."""
        if role not in ROLES:
            raise ValueError(f'unknown role {role!r}')
        problem = username_problem(username)
        if problem:
            raise ValueError(problem)
        self.database.execute(
            'INSERT INTO users (username, password_hash, role, source, disabled, created_at) '
            "VALUES (?, ?, ?, 'local', 0, ?)",
            (username, _hasher.hash(password), role, time.time()),
        )
        self._changed(username, Account(username=username, role=role, source='local', disabled=False))

    def upsert_external(
        self, username: str, role: str, *, source: str, subject: str = '', groups: tuple[str, ...] = ()
    ) -> str:
        """Creates or updates an SSO account with the role and groups from this sign-in: '' when signed in, else why
        not (disabled, the name taken by a local account or by another identity of the provider)."""
        account = self.get(username)
        groups = tuple(sorted(set(groups)))
        if account is None:
            self.database.execute(
                'INSERT INTO users (username, password_hash, role, source, disabled, created_at, subject, sso_groups) '
                'VALUES (?, NULL, ?, ?, 0, ?, ?, ?)',
                (username, role, source, time.time(), subject, json.dumps(groups)),
            )
            self._changed(
                username,
                Account(username=username, role=role, source=source, disabled=False, subject=subject, groups=groups),
            )
            return ''
        if account.source != source:
            return f'the name {username} belongs to a local Berth account'
        if subject and account.subject and account.subject != subject:
            return f'the name {username} belongs to another identity in Berth'
        if account.disabled:
            return f'the account {username} is disabled in Berth'
        subject = subject or account.subject  # an account made before subjects were kept takes this one
        self.database.execute(
            'UPDATE users SET role = ?, subject = ?, sso_groups = ? WHERE username = ?',
            (role, subject, json.dumps(groups), username),
        )
        self._changed(username, replace(account, role=role, subject=subject, groups=groups))
        return ''

    def all(self) -> list[Account]:
        rows = self.database.query(f'SELECT {COLUMNS} FROM users ORDER BY username')
        return [_account(row) for row in rows]

    def known(self) -> list[Account]:
        """The accounts the checks know now, from memory: the last refresh (every few seconds) and changes made here."""
        with self._lock:
            return list(self._known.values())

    def set_role(self, username: str, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f'unknown role {role!r}')
        self.database.execute('UPDATE users SET role = ? WHERE username = ?', (role, username))
        self._changed(username, lambda account: replace(account, role=role))

    def set_disabled(self, username: str, disabled: bool) -> None:
        self.database.execute('UPDATE users SET disabled = ? WHERE username = ?', (int(disabled), username))
        self._changed(username, lambda account: replace(account, disabled=disabled))

    def set_password(self, username: str, password: str) -> None:
        """Hashes with argon2 (tens of milliseconds of CPU): call it off the event loop."""
        self.database.execute(
            "UPDATE users SET password_hash = ? WHERE username = ? AND source = 'local'",
            (_hasher.hash(password), username),
        )

    def get(self, username: str) -> Account | None:
        """The account as the database has it now."""
        rows = self.database.query(f'SELECT {COLUMNS} FROM users WHERE username = ?', (username,))
        return _account(rows[0]) if rows else None

    def cached(self, username: str) -> Account | None:
        """The account for the checks made on every request and event: from memory, read from the database only
        when nothing is known of it yet (an unknown name is read each time: its session ends at that check)."""
        with self._lock:
            account, changes = self._known.get(username), self._changes
        if account is not None:
            return account
        account = self.get(username)
        if account is not None:
            with self._lock:
                if changes == self._changes:  # else a change came in meanwhile: this read may predate it
                    self._known[username] = account
        return account

    def refresh(self) -> list[Account]:
        """Reads every account (call it off the loop) and makes that what the checks see: this is how a change made
        outside this panel (another instance, the database directly) reaches them."""
        with self._lock:
            changes = self._changes
        listed = self.all()
        with self._lock:
            if changes == self._changes:
                self._known = {account.username: account for account in listed}
        return listed

    def verify(self, username: str, password: str) -> Account | None:
        """The account when the password is right and the account is enabled; None otherwise.

        Runs argon2 (tens of milliseconds of CPU, also for an unknown user): call it off the event loop. A name or
        password no account can have (a lone surrogate, NUL) is an unknown user, checked in the same time."""
        readable = _storable(username) and _storable(password.replace('\x00', ''))
        rows = (
            self.database.query("SELECT * FROM users WHERE username = ? AND source = 'local'", (username,))
            if readable
            else []
        )
        stored = rows[0]['password_hash'] if rows else _dummy_hash()
        try:
            _hasher.verify(stored, password if readable else '')
        except (VerificationError, InvalidHashError):
            return None
        if not rows or rows[0]['disabled']:
            return None
        return self.get(username)

    def _changed(self, username: str, change: Account | Callable[[Account], Account]) -> None:
        """Keeps the checks in step with a change just written: the new account, or how the known one changed."""
        with self._lock:
            self._changes += 1
            known = self._known.get(username)
            if isinstance(change, Account):
                self._known[username] = change
            elif known is not None:
                self._known[username] = change(known)


def _account(row: dict[str, Any]) -> Account:
    try:
        groups = tuple(str(group) for group in json.loads(row.get('sso_groups') or '[]'))
    except (TypeError, ValueError):
        groups = ()
    return Account(
        username=row['username'],
        role=row['role'],
        source=row['source'],
        disabled=bool(row['disabled']),
        subject=row.get('subject') or '',
        groups=groups,
    )


@functools.cache
def _dummy_hash() -> str:
    """Verifying against this keeps the time of a sign-in for an unknown user close to a known one's; made at the
    first such sign-in (off the loop), not at import."""
    return _hasher.hash(secrets.token_urlsafe(16))
