"""Networks in Chromium against the real engine: a network made with the CLI appears without a reload; one made in
the page, and a container connected to it in the page, are what ``docker network inspect`` shows; a malformed CIDR
gets a sentence."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.support.browser import signed_in_page
from tests.support.eventually import eventually
from tests.support.panel import Panel

from .test_protection import add_account

TIMEOUT_MS = 15_000


@pytest.fixture
def network_name() -> Iterator[str]:
    name = f'bt-net-{uuid.uuid4().hex[:8]}'
    yield name
    subprocess.run(['docker', 'network', 'rm', name], capture_output=True)


def network_inspect(name: str) -> dict[str, Any]:
    result = subprocess.run(['docker', 'network', 'inspect', name], capture_output=True, text=True)
    return json.loads(result.stdout)[0] if result.returncode == 0 else {}  # type: ignore[no-any-return]


async def open_networks(browser: Browser, panel: Panel) -> Page:
    """An operator's new session on /networks, marked so that a reload would show."""
    username, password = add_account(panel, 'operator')
    page = await signed_in_page(browser, panel.base_url, username=username, password=password, path='/networks')
    await page.evaluate('window.berthE2eMarker = true')
    return page


async def test_a_network_created_with_the_cli_appears_without_a_reload(
    panel: Panel, browser: Browser, network_name: str
) -> None:
    page = await open_networks(browser, panel)
    await page.get_by_label('Filter networks').fill(network_name)
    row = page.locator('tbody tr').filter(has=page.get_by_role('link', name=network_name, exact=True))
    await expect(row).to_have_count(0)

    await asyncio.to_thread(
        subprocess.run,
        ['docker', 'network', 'create', '--subnet', '10.213.30.0/24', network_name],
        check=True,
        capture_output=True,
    )

    await expect(row).to_have_count(1, timeout=TIMEOUT_MS)
    await expect(row).to_contain_text('10.213.30.0/24')
    assert await page.evaluate('window.berthE2eMarker === true'), 'the page was reloaded'


async def test_a_network_and_a_connection_made_in_the_page_show_in_docker_inspect(
    panel: Panel, browser: Browser, network_name: str, make_container: Callable[..., str]
) -> None:
    container = make_container(name=f'bt-net-c-{uuid.uuid4().hex[:8]}')
    page = await open_networks(browser, panel)
    # When an operator fills in the New network dialog
    await page.get_by_role('button', name='New network').click()
    dialog = page.get_by_role('dialog', name='New network')
    await dialog.get_by_label('Name').fill(network_name)
    await dialog.get_by_label('Subnet').fill('10.213.31.0/24')
    await dialog.get_by_label('Gateway').fill('10.213.31.1')
    await dialog.get_by_role('button', name='Create network').click()
    # Then the engine has that bridge network, and the page lists it
    await eventually(lambda: network_inspect(network_name) != {}, what='the network created')
    data = network_inspect(network_name)
    assert data['Driver'] == 'bridge'
    assert data['IPAM']['Config'] == [{'Subnet': '10.213.31.0/24', 'Gateway': '10.213.31.1'}]
    row = page.locator('tbody tr').filter(has=page.get_by_role('link', name=network_name, exact=True))
    await expect(row).to_have_count(1, timeout=TIMEOUT_MS)
    # When the container is connected on the network's page, with an alias and an address
    await row.get_by_role('button', name='Inspect').click()
    await page.wait_for_url(f'**/networks/{network_name}', timeout=TIMEOUT_MS)
    await page.get_by_label('Container', exact=True).click()
    await page.get_by_role('option', name=container, exact=True).click()
    await page.get_by_label('Aliases').fill('db')
    await page.get_by_label('IPv4 address').fill('10.213.31.7')
    await page.get_by_role('button', name='Connect', exact=True).click()
    # Then docker network inspect shows it there, and the page lists it without a reload
    await eventually(lambda: network_inspect(network_name).get('Containers'), what='the container connected')
    members = list(network_inspect(network_name)['Containers'].values())
    assert [(member['Name'], member['IPv4Address']) for member in members] == [(container, '10.213.31.7/24')]
    aliases = subprocess.run(
        [
            'docker',
            'inspect',
            '--format',
            f'{{{{json (index .NetworkSettings.Networks "{network_name}").Aliases}}}}',
            container,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    assert 'db' in json.loads(aliases.stdout)
    await expect(page.get_by_role('button', name=f'Disconnect {container}')).to_be_visible(timeout=TIMEOUT_MS)
    await expect(page.get_by_text('10.213.31.7', exact=True)).to_be_visible()


async def test_a_malformed_cidr_gets_a_sentence(panel: Panel, browser: Browser, network_name: str) -> None:
    page = await open_networks(browser, panel)
    await page.get_by_role('button', name='New network').click()
    dialog = page.get_by_role('dialog', name='New network')
    await dialog.get_by_label('Name').fill(network_name)
    await dialog.get_by_label('Subnet').fill('10.213.32.0/33')
    await expect(
        dialog.get_by_text('10.213.32.0/33 is not a valid subnet: the prefix length must be 0–32')
    ).to_be_visible(timeout=TIMEOUT_MS)
    await dialog.get_by_role('button', name='Create network').click()
    await expect(dialog).to_be_visible()
    assert network_inspect(network_name) == {}
