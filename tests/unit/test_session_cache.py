"""The session checks made on every request, socket event and keystroke read the account from memory: a change made
through the panel counts at the next check without a database read, one made elsewhere once the sweep has run."""

from __future__ import annotations

import time
from typing import Any

import pytest

from auth import browser_storage
from auth.accounts import Accounts
from auth.session import OpenPage, Sessions
from core.permissions import Permission
from core.storage.sqlite import SQLiteDatabase


class CountingDatabase(SQLiteDatabase):
    def __init__(self) -> None:
        super().__init__(':memory:')
        self.queries = 0

    def _query(self, sql: str, parameters: tuple[Any, ...]) -> list[dict[str, Any]]:
        self.queries += 1
        return super()._query(sql, parameters)


@pytest.fixture
def database() -> CountingDatabase:
    return CountingDatabase()


@pytest.fixture
def sessions(database: CountingDatabase, monkeypatch: pytest.MonkeyPatch) -> Sessions:
    """Sessions whose every request comes from one browser signed in as vera (an operator)."""
    accounts = Accounts(database)
    accounts.create('vera', 'a long password', 'operator')
    storage = {'username': 'vera', 'login_at': time.time(), 'last_seen': time.time()}
    monkeypatch.setattr(browser_storage, 'storage_of', lambda request: storage)
    monkeypatch.setattr(browser_storage, 'storage_of_id', lambda identifier: storage)
    return Sessions(accounts, idle_seconds=600, max_seconds=3600)


def role(sessions: Sessions) -> str | None:
    identity = sessions.identity_of(None)
    return identity.role if identity is not None else None


def test_checks_do_not_query_the_database(sessions: Sessions, database: CountingDatabase) -> None:
    assert role(sessions) == 'operator'
    before = database.queries
    for _ in range(100):  # a hundred requests, events, keystrokes
        assert role(sessions) == 'operator'
    assert database.queries == before


def test_an_account_nobody_checked_yet_is_read_once(sessions: Sessions, database: CountingDatabase) -> None:
    sessions.accounts = Accounts(database)  # a panel that just started: nothing known yet
    before = database.queries
    for _ in range(10):
        assert role(sessions) == 'operator'
    assert database.queries == before + 1


def test_a_role_change_and_a_disable_count_at_the_next_check_without_a_read(
    sessions: Sessions, database: CountingDatabase
) -> None:
    assert role(sessions) == 'operator'
    before = database.queries
    sessions.accounts.set_role('vera', 'viewer')
    assert role(sessions) == 'viewer'
    sessions.accounts.set_disabled('vera', True)
    assert role(sessions) is None  # and the session is over
    assert database.queries == before


async def test_a_change_made_outside_the_panel_counts_once_the_sweep_ran(
    sessions: Sessions, database: CountingDatabase
) -> None:
    sessions.pages['page-1'] = OpenPage(username='vera', browser_id='b1', permission=Permission.CONTAINER_LIFECYCLE)
    assert role(sessions) == 'operator'
    # When another instance (or someone with the database) makes vera a viewer
    database.execute('UPDATE users SET role = ? WHERE username = ?', ('viewer', 'vera'))
    assert role(sessions) == 'operator'  # the checks do not read the database
    # Then the sweep, off the loop, reads the accounts, the checks see the new role and vera's operator page is closed
    assert await sessions.sweep_once() == 0  # counted only when the page's client still exists
    assert role(sessions) == 'viewer'
    assert 'page-1' not in sessions.pages


def test_a_refresh_read_before_a_change_does_not_undo_it(database: CountingDatabase) -> None:
    accounts = Accounts(database)
    accounts.create('vera', 'a long password', 'operator')
    listing = accounts.all  # a sweep's read that began before the change below and ends after it

    def slow_listing() -> list[Any]:
        listed = listing()
        accounts.set_role('vera', 'viewer')
        return listed

    accounts.all = slow_listing  # type: ignore[method-assign]
    accounts.refresh()
    assert accounts.cached('vera').role == 'viewer'  # type: ignore[union-attr]
