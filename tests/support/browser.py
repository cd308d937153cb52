"""Headless Chromium from the system package (never a Playwright download), and a signed-in page in it."""

from __future__ import annotations

from playwright.async_api import Browser, Locator, Page, Playwright

from .panel import ADMIN_PASSWORD

CHROMIUM = '/usr/bin/chromium'
CHROMIUM_ARGS = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
]


async def launch_chromium(playwright: Playwright) -> Browser:
    """A headless Chromium from the system package (never a Playwright download)."""
    return await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


async def signed_in_page(
    browser: Browser,
    base_url: str,
    *,
    username: str = 'admin',
    password: str = ADMIN_PASSWORD,
    path: str = '/containers',
) -> Page:
    """A fresh browser context (its own cookies = its own session), signed in and showing ``path``."""
    context = await browser.new_context(base_url=base_url, viewport={'width': 1600, 'height': 1000})
    page = await context.new_page()
    await page.goto(f'/login?redirect_to={path}')
    await page.get_by_label('Username').fill(username)
    await page.get_by_label('Password', exact=True).fill(password)
    await page.get_by_role('button', name='Sign in').click()
    await page.wait_for_url(f'**{path}', timeout=15_000)
    await page.locator('.q-table').first.wait_for(timeout=15_000)
    return page


def container_row(page: Page, name: str) -> Locator:
    """The table row whose name link is exactly ``name``."""
    return page.locator('tbody tr').filter(has=page.get_by_role('link', name=name, exact=True))
