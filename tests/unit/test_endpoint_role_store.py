"""Per-host roles stored by admins, merged with BERTH_OIDC_ENDPOINT_ROLES (it wins for the host and role it names)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.endpoint_role_store import EndpointRoleTable, RoleRuleError, parse_members
from core.endpoint_roles import EndpointRoles
from core.storage.sqlite import SQLiteDatabase


def test_stored_rows_merge_with_the_setting_which_wins_for_what_it_names(tmp_path: Path) -> None:
    database = SQLiteDatabase(tmp_path / 'berth.sqlite3')
    configured = EndpointRoles({'b': {'operator': ['ops']}})
    table = EndpointRoleTable(database, configured)
    table.save('b', 'viewer', ('devs', 'user:olga'), 'admin')
    # the stored row adds a role on b; the setting's row for b stays
    assert table.resolve('olga', 'operator', ()) == (('b', 'viewer'),)
    assert table.resolve('sam', 'operator', ('ops', 'devs')) == (('b', 'operator'),)
    assert table.resolve('pat', 'operator', ('others',)) == (('b', ''),)  # listed host, not listed there: no role
    assert table.resolve('root', 'admin', ()) == ()
    # what the setting names cannot be saved in the page
    with pytest.raises(RoleRuleError, match='set by BERTH_OIDC_ENDPOINT_ROLES'):
        table.save('b', 'operator', ('devs',), 'admin')
    # another panel on the same database sees the row after its refresh
    other = EndpointRoleTable(database, configured)
    assert other.resolve('olga', 'operator', ()) == (('b', ''),)  # not yet read
    other.refresh()
    assert other.resolve('olga', 'operator', ()) == (('b', 'viewer'),)
    assert [(rule.endpoint, rule.role, rule.source) for rule in other.rules()] == [
        ('b', 'viewer', 'stored'),
        ('b', 'operator', 'settings'),
    ]
    assert table.delete('b', 'viewer') and table.resolve('olga', 'operator', ()) == (('b', ''),)


@pytest.mark.parametrize(
    ('text', 'sentence'),
    [('', 'name at least one group'), ('user:', 'names no account'), ('a\x00b', 'control'), ('x' * 201, 'longer')],
)
def test_members_are_checked_with_a_sentence(text: str, sentence: str) -> None:
    with pytest.raises(RoleRuleError, match=sentence):
        parse_members(text)


def test_members_one_a_line_or_by_commas() -> None:
    assert parse_members(' ops, user:olga\n\nops\ndevs ') == ('ops', 'user:olga', 'devs')
