"""Per-host roles edited on /admin/host-roles (NiceGUI's simulated user, main.py wired for real): saved in the database,
audited, counted at the person's next request without a restart; BERTH_OIDC_ENDPOINT_ROLES wins for what it names."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User

from components.create_form import CreateForm
from core.storage.audit import AuditLog
from core.storage.sqlite import SQLiteDatabase
from tests.support.eventually import eventually

from .test_admin import create_account
from .test_pages import sign_in


@pytest.fixture
def configured_role(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Requested before the ``user`` fixture, so main.py reads it: a second host (no engine answers there) whose
    admin role the settings give to a group nobody is in."""
    ghost = {'id': 'ghost', 'name': 'Ghost', 'url': f'unix://{data_dir}/no-engine/docker.sock'}
    monkeypatch.setenv('BERTH_ENDPOINTS', json.dumps([ghost]))
    monkeypatch.setenv('BERTH_OIDC_ENDPOINT_ROLES', json.dumps({'ghost': {'admin': ['bh2-nobody']}}))


def audit(data_dir: Path) -> AuditLog:
    return AuditLog(SQLiteDatabase(data_dir / 'berth.sqlite3'))


def rows(user: User) -> list[dict]:
    return [row for table in user.find(ui.table).elements for row in table.rows]  # type: ignore[attr-defined]


async def new_role(admin: User, host: str, role: str, members: str) -> None:
    admin.find(kind=ui.button, content='New role').click()
    await admin.should_see('New per-host role', retries=50)
    for marker, value in (('role-host', host), ('role-role', role)):
        select = next(iter(admin.find(marker=marker).elements))
        assert isinstance(select, ui.select)
        select.value = value
    admin.find(marker='role-members').type(members)
    admin.find(marker='save-role').click()


async def test_a_role_saved_in_the_page_counts_at_the_next_request_and_the_setting_wins(
    configured_role: None, data_dir: Path, create_user: Callable[[], User]
) -> None:
    admin, pat = create_user(), create_user()
    await sign_in(admin)
    password = await create_account(admin, 'pat', 'operator')
    await sign_in(pat, 'pat', password)
    # Given pat, an operator, who may create containers on local
    await pat.open('/containers/new')
    await pat.should_see(kind=CreateForm)
    # The page lists the settings' row, which it cannot change
    await admin.open('/admin/host-roles')
    await admin.should_see('Per-host roles')
    assert [(row['endpoint'], row['role'], row['source']) for row in rows(admin)] == [('ghost', 'admin', 'settings')]
    await new_role(admin, 'ghost', 'admin', 'user:pat')
    await admin.should_see('is set by BERTH_OIDC_ENDPOINT_ROLES: change it there', retries=50)
    admin.find(kind=ui.button, content='Cancel').click()
    await admin.should_not_see('New per-host role', retries=50)
    # When an admin makes pat a viewer on local in the page (a sentence first for an empty list)
    await new_role(admin, 'local', 'viewer', '  ')
    await admin.should_see('Name at least one group, or an account as user:<name>.', retries=50)
    admin.find(marker='role-members').type('user:pat\nops-team')
    admin.find(marker='save-role').click()
    await eventually(lambda: any(row['role'] == 'viewer' for row in rows(admin)), what='the row listed')
    saved = next(row for row in rows(admin) if row['role'] == 'viewer')
    assert (saved['endpoint'], saved['members'], saved['source']) == ('local', ['user:pat', 'ops-team'], 'this page')
    # Then pat's next request has the viewer role there, with no restart
    await pat.open('/containers/new')
    await pat.should_see('pat is a viewer on host "local": create containers needs the operator role.', retries=50)
    # And the save (and the refused one) are audited
    entries = audit(data_dir).entries(action='host_role.save')
    assert [(entry.target, entry.result[:9]) for entry in reversed(entries)] == [
        ('ghost:admin', 'refused: '),
        ('local:viewer', 'succeeded'),
    ]
    # When the admin deletes the row (the simulated users share one request context: the admin's page opened again)
    await admin.open('/admin/host-roles')
    await admin.should_see('Per-host roles')
    admin.find(ui.table).trigger('delete', 'local:viewer')
    await admin.should_see('Delete the viewer role on host local?', retries=50)
    admin.find(kind=ui.button, content='Delete').click()
    await eventually(lambda: not any(row['role'] == 'viewer' for row in rows(admin)), what='the row deleted')
    assert audit(data_dir).entries(action='host_role.delete')[0].result == 'succeeded'
    # Then pat is an operator there again at the next request
    await pat.open('/containers/new')
    await pat.should_see(kind=CreateForm, retries=50)


async def test_only_admins_open_the_page(user: User, create_user: Callable[[], User]) -> None:
    await sign_in(user)
    password = await create_account(user, 'olga', 'operator')
    olga = create_user()
    await sign_in(olga, 'olga', password)
    await olga.open('/admin/host-roles')
    await olga.should_see('olga is an operator: manage per-host roles needs the admin role.', retries=50)
