"""Accounts and the audit log, through the pages, with the role checked on the server."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui
from nicegui.testing import User

from .test_pages import sign_in


async def create_account(admin: User, username: str, role: str) -> str:
    await admin.open('/admin/users')
    admin.find('New username').type(username)
    admin.find('New role').click()
    admin.find(role).click()
    admin.find(kind=ui.button, content='Create user').click()
    await admin.should_see(f'Password for {username} (shown once):', retries=50)  # hashed off the loop
    label = next(iter(admin.find(content=f'Password for {username}').elements))
    return str(label.text).rsplit(': ', 1)[1]  # type: ignore[attr-defined]


async def test_admin_creates_a_viewer_who_cannot_administer(create_user: Callable[[], User]) -> None:
    admin, viewer = create_user(), create_user()
    await sign_in(admin)
    password = await create_account(admin, 'vera', 'viewer')
    await sign_in(viewer, 'vera', password)
    await viewer.should_see('vera · viewer')
    await viewer.should_not_see('Users')  # no admin navigation
    await viewer.open('/admin/users')
    await viewer.should_see('vera is a viewer: manage users needs the admin role.')
    await viewer.should_not_see('Create user')
    await viewer.open('/admin/audit')
    await viewer.should_see('vera is a viewer: read the audit log needs the admin role.')


async def test_disabling_an_account_ends_its_session_and_is_audited(create_user: Callable[[], User]) -> None:
    admin, other = create_user(), create_user()
    await sign_in(admin)
    password = await create_account(admin, 'otto', 'operator')
    await sign_in(other, 'otto', password)
    await other.should_see('otto · operator')
    # When the admin disables otto
    await admin.open('/admin/users')
    table = next(iter(admin.find(ui.table).elements))
    table.selected = [row for row in table.rows if row['username'] == 'otto']  # type: ignore[attr-defined]
    admin.find(kind=ui.button, content='Disable').click()
    # Then otto's session is over (the browser test checks that open pages are sent away) and sign-in is refused
    await other.open('/containers')
    await other.should_see('Sign in to manage this Docker host')
    await sign_in(other, 'otto', password, succeeds=False)
    await other.should_see('Wrong username or password.')
    # And the audit log has the whole story
    await admin.open('/admin/audit')
    rows = next(iter(admin.find(ui.table).elements)).rows  # type: ignore[attr-defined]
    actions = [(row['username'], row['action'], row['target']) for row in rows]
    assert ('admin', 'user.disable', 'otto') in actions and ('admin', 'user.create', 'otto') in actions
    assert ('otto', 'auth.login', 'local') in actions
