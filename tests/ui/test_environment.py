"""Environment values on the detail page (readable and raw JSON) by role; Berth's own containers for admins only."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui
from nicegui.testing import User

from .test_admin import create_account
from .test_pages import sign_in

SECRET, PLAIN = 'hunter2-not-for-viewers', 'hello-everyone'


def raw_json(user: User) -> str:
    return '\n'.join(str(code.content) for code in user.find(ui.code).elements)  # type: ignore[attr-defined]


async def test_viewers_see_names_operators_reveal_secrets_with_an_audit_entry(
    create_user: Callable[[], User], make_container: Callable[..., str]
) -> None:
    name = make_container(extra=['-e', f'DB_PASSWORD={SECRET}', '-e', f'GREETING={PLAIN}'])
    admin, viewer, operator = create_user(), create_user(), create_user()
    await sign_in(admin)
    viewer_password = await create_account(admin, 'vic', 'viewer')
    operator_password = await create_account(admin, 'ops', 'operator')

    # A viewer sees the names, never the values, in the readable view and in the raw JSON
    await sign_in(viewer, 'vic', viewer_password)
    await viewer.open(f'/containers/{name}')
    await viewer.should_see('DB_PASSWORD', retries=50)
    await viewer.should_see('Values are hidden: viewers see the names only.')
    await viewer.should_not_see(PLAIN)
    await viewer.should_not_see(SECRET)
    assert 'GREETING=' in raw_json(viewer) and PLAIN not in raw_json(viewer) and SECRET not in raw_json(viewer)
    await viewer.should_not_see('Reveal secret values')

    # An operator sees ordinary values, and secret-looking ones masked until revealed
    await sign_in(operator, 'ops', operator_password)
    await operator.open(f'/containers/{name}')
    await operator.should_see(PLAIN, retries=50)
    await operator.should_not_see(SECRET)
    assert SECRET not in raw_json(operator)
    operator.find(kind=ui.button, content='Reveal secret values').click()
    await operator.should_see(SECRET)
    assert SECRET in raw_json(operator)

    # And the reveal is in the audit log
    await admin.open('/admin/audit')
    rows = next(iter(admin.find(ui.table).elements)).rows  # type: ignore[attr-defined]
    assert ('ops', 'container.reveal_env', name, 'revealed') in [
        (row['username'], row['action'], row['target'], row['result']) for row in rows
    ]


async def test_berths_own_containers_keep_environment_and_logs_from_non_admins(
    create_user: Callable[[], User], make_container: Callable[..., str]
) -> None:
    name = make_container(
        labels={'berth.protected': 'true'},
        extra=['-e', f'BERTH_SECRET_KEY={SECRET}', '-e', f'GREETING={PLAIN}'],
        command='sleep 600',
    )
    admin, operator = create_user(), create_user()
    await sign_in(admin)
    operator_password = await create_account(admin, 'ops2', 'operator')
    await sign_in(operator, 'ops2', operator_password)
    await operator.open(f'/containers/{name}')
    await operator.should_see('GREETING', retries=50)
    await operator.should_see("Values are hidden: only admins see the environment of Berth's own containers.")
    await operator.should_not_see(PLAIN)
    assert PLAIN not in raw_json(operator) and SECRET not in raw_json(operator), raw_json(operator)
    await operator.open(f'/containers/{name}/logs')
    await operator.should_see(
        f"Reading the logs of {name} needs the admin role: it is one of Berth's own containers.", retries=50
    )
    # (control: the admin sees the values and the log)
    await admin.open(f'/containers/{name}')
    await admin.should_see(PLAIN, retries=50)
    await admin.open(f'/containers/{name}/logs')
    await admin.should_not_see(f'Reading the logs of {name} needs the admin role')
