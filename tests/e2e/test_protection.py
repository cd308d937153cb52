"""In Chromium, against the running panel: environment values by role, and Berth's own containers kept from
non-admins (environment, logs page, whole-log download)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from playwright.async_api import Browser

from auth.accounts import Accounts
from core.settings import Settings
from core.storage import make_database
from tests.support.browser import signed_in_page
from tests.support.panel import Panel

SECRET, PLAIN = 'e2e-hunter2-secret', 'e2e-visible-greeting'


def add_account(panel: Panel, role: str) -> tuple[str, str]:
    """An account written straight into the panel's database (the admin page is tested elsewhere)."""
    username, password = f'{role}-{uuid.uuid4().hex[:6]}', uuid.uuid4().hex
    Accounts(make_database(Settings(data_dir=panel.data_dir))).create(username, password, role)
    return username, password


async def test_environment_values_by_role_in_the_browser(
    panel: Panel, browser: Browser, make_container: Callable[..., str]
) -> None:
    name = make_container(extra=['-e', f'API_TOKEN={SECRET}', '-e', f'GREETING={PLAIN}'])
    viewer_name, viewer_password = add_account(panel, 'viewer')
    viewer = await signed_in_page(browser, panel.base_url, username=viewer_name, password=viewer_password)
    await viewer.goto(f'/containers/{name}')
    await viewer.get_by_text('API_TOKEN', exact=True).wait_for()
    await viewer.get_by_role('tab', name='Raw JSON').click()
    await viewer.get_by_text('"API_TOKEN=(hidden)"').wait_for()
    html = await viewer.content()
    assert SECRET not in html and PLAIN not in html

    operator_name, operator_password = add_account(panel, 'operator')
    operator = await signed_in_page(browser, panel.base_url, username=operator_name, password=operator_password)
    await operator.goto(f'/containers/{name}')
    await operator.get_by_text(PLAIN, exact=True).wait_for()
    assert SECRET not in await operator.content()
    await operator.get_by_role('button', name='Reveal secret values').click()
    await operator.get_by_text(SECRET, exact=True).wait_for()


async def test_berths_own_container_logs_are_refused_to_an_operator(
    panel: Panel, browser: Browser, make_container: Callable[..., str]
) -> None:
    name = make_container(labels={'berth.protected': 'true'}, command=f'echo {SECRET}')
    username, password = add_account(panel, 'operator')
    page = await signed_in_page(browser, panel.base_url, username=username, password=password)
    await page.goto(f'/containers/{name}/logs')
    await page.get_by_role('alert').filter(has_text=f'Reading the logs of {name} needs the admin role').wait_for()
    download = await page.request.get(f'/logs/download?containers={name}')
    assert download.status == 403
    assert SECRET not in await download.text()
    # (control: the admin downloads it)
    admin = await signed_in_page(browser, panel.base_url)
    answer = await admin.request.get(f'/logs/download?containers={name}')
    assert answer.status == 200 and SECRET in await answer.text()
