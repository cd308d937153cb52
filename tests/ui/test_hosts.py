"""Several Docker hosts through the pages (NiceGUI's simulated user, main.py wired for real): the host switcher and
the dashboard say which host is unreachable and since when; /admin/endpoints refuses what it must, with a sentence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User

from components.hosts import HostSwitcher

from .test_pages import sign_in


@pytest.fixture
def ghost_host(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second host whose socket does not exist. Requested before the ``user`` fixture, so main.py reads it."""
    ghost = {'id': 'ghost', 'name': 'Ghost', 'url': f'unix://{data_dir}/no-engine/docker.sock'}
    monkeypatch.setenv('BERTH_ENDPOINTS', json.dumps([ghost]))


async def test_an_unreachable_host_is_shown_while_local_works(ghost_host: None, user: User) -> None:
    await sign_in(user)
    # the banner, the switcher's menu and the dashboard name the host that cannot be reached, and since when
    await user.should_see('Host "Ghost": unreachable since', retries=50)
    await user.should_see('Hosts')  # the dashboard's card
    await user.should_see('local: connected')
    await user.should_see('Ghost: unreachable since')
    user.find(marker='host-switcher').click()
    await user.should_see('All hosts')
    # choosing a host keeps it for this person: the containers page then shows that host only
    user.find(marker='host-ghost').click()
    await user.should_see(kind=HostSwitcher, content='Ghost')
    await user.open('/containers')
    await user.should_see('Containers on host "ghost"')


async def test_admin_page_refuses_plain_tcp_unreachable_hosts_and_the_same_engine_twice(user: User) -> None:
    await sign_in(user)
    await user.open('/admin/endpoints')
    await user.should_see('Docker hosts')
    (table,) = user.find(ui.table).elements
    (local,) = table.rows  # type: ignore[attr-defined]
    assert (local['id'], local['source'], local['editable']) == ('local', 'settings', False)

    async def try_save(url: str, *, plain: bool = False) -> None:
        user.find(kind=ui.button, content='New host').click()
        await user.should_see('New Docker host')
        user.find('Id').type('bho-new')
        user.find('Name').type('New host')
        user.find('URL').type(url)
        if plain:
            user.find(kind=ui.checkbox, content='Plain TCP without TLS').click()
        user.find('Test and save').click()

    await try_save('tcp://127.0.0.1:1')
    await user.should_see('gives root on that host to anyone who can reach the port')
    user.find('Cancel').click()
    await user.should_not_see('New Docker host')
    await try_save('tcp://127.0.0.1:1', plain=True)
    await user.should_see('Not saved: could not reach tcp://127.0.0.1:1: nothing answers there', retries=100)
    user.find('Cancel').click()
    await user.should_not_see('New Docker host')
    await try_save('unix:///var/run/docker.sock')
    await user.should_see('Not saved: that is the engine of the host local already', retries=100)
