"""Sign-in end to end: headless Chromium, a real OpenID provider (panva oidc-provider), Berth as a subprocess."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Page

from auth.accounts import Accounts
from auth.oidc import OidcLogin
from auth.session import Sessions
from core.settings import Settings
from core.storage.audit import AuditLog
from core.storage.sqlite import SQLiteDatabase
from tests.support import free_port
from tests.support.eventually import eventually_sync
from tests.support.panel import Panel

from .test_session_rotation import browser_id, is_signed_in

IDP_DIR = Path(__file__).resolve().parent.parent / 'idp'
OTHER_REDIRECT = 'http://127.0.0.1:9/callback'


@pytest.fixture(scope='module')
def idp_and_panel() -> Iterator[tuple[str, Panel]]:
    with idp_for(Panel(env={})) as started:
        yield started


@contextmanager
def idp_for(panel: Panel) -> Iterator[tuple[str, Panel]]:
    """Starts the test IdP, then ``panel`` signing in with it (groups: berth-admins, -operators, -viewers and
    -developers); yields the issuer and the panel, and stops both."""
    port = free_port()
    issuer = f'http://127.0.0.1:{port}'
    log_path = Path(panel.log_path).with_name('idp.log')
    log = log_path.open('wb')
    idp = subprocess.Popen(
        ['node', 'idp.mjs'],
        cwd=IDP_DIR,
        env={**os.environ, 'IDP_PORT': str(port), 'RP_URL': panel.base_url},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def idp_answers() -> bool:
        if idp.poll() is not None:
            raise AssertionError(f'the test identity provider exited:\n{log_path.read_text(errors="replace")}')
        try:
            urllib.request.urlopen(f'{issuer}/.well-known/openid-configuration', timeout=1).close()
        except OSError:
            return False
        return True

    try:
        eventually_sync(idp_answers, 20, 'the test identity provider to start', interval=0.2)
        panel.extra_env = {
            **panel.extra_env,  # what the test gave the panel, with the sign-in on top
            'BERTH_PUBLIC_URL': panel.base_url,
            'BERTH_OIDC_ISSUER': issuer,
            'BERTH_OIDC_CLIENT_ID': 'berth',
            'BERTH_OIDC_CLIENT_SECRET': 'berth-secret',
            'BERTH_OIDC_PROVIDER_NAME': 'Test IdP',
            'BERTH_OIDC_ADMIN_GROUPS': 'berth-admins',
            'BERTH_OIDC_OPERATOR_GROUPS': 'berth-operators',
            'BERTH_OIDC_VIEWER_GROUPS': 'berth-viewers',
            'BERTH_OIDC_DEVELOPER_GROUPS': 'berth-developers',
        }
        panel.start(timeout=30)
        try:
            yield issuer, panel
        finally:
            panel.stop()
    finally:
        os.killpg(idp.pid, signal.SIGTERM)
        idp.wait(10)
        log.close()


async def start_sso(browser: Browser, panel: Panel) -> Page:
    context = await browser.new_context(base_url=panel.base_url)
    page = await context.new_page()
    await page.goto('/login')
    await page.get_by_role('button', name='Sign in with Test IdP').click()
    await page.wait_for_url('**/interaction/**')
    return page


async def submit_idp_login(page: Page, username: str, password: str) -> None:
    await page.fill('input[name=login]', username)
    await page.fill('input[name=password]', password)
    await page.click('button[type=submit]')


async def callback_by_http(client: httpx.AsyncClient, panel: Panel, username: str) -> str:
    """Walks the real code flow over plain HTTP (a cookie jar, no browser) up to Berth's callback URL."""
    return await follow_login(client, f'{panel.base_url}/auth/login', username, f'{panel.base_url}/auth/callback')


async def follow_login(client: httpx.AsyncClient, start: str, username: str, redirect_uri: str) -> str:
    """Follows redirects and the provider's login form until it redirects to ``redirect_uri``; returns that URL."""
    response = await client.get(start)
    for _ in range(10):
        location = urljoin(str(response.url), response.headers.get('location', ''))
        if location.startswith(redirect_uri):
            return location
        if response.status_code in (302, 303):
            response = await client.get(location)
            continue
        action = re.search(r'action="([^"]+)"', response.text)
        assert action is not None, response.text[:500]
        response = await client.post(
            urljoin(str(response.url), action.group(1)), data={'login': username, 'password': f'{username}-password'}
        )
    raise AssertionError('the provider never redirected to the callback')


@pytest.mark.parametrize(('username', 'role'), [('alice', 'admin'), ('oscar', 'operator'), ('vera', 'viewer')])
async def test_sign_in_gets_the_role_from_groups_and_signs_out(
    idp_and_panel: tuple[str, Panel], browser: Browser, username: str, role: str
) -> None:
    _, panel = idp_and_panel
    page = await start_sso(browser, panel)
    await submit_idp_login(page, username, f'{username}-password')
    await page.wait_for_url(f'{panel.base_url}/')  # the dashboard, the home page
    await page.get_by_text(f'{username} · {role}').wait_for()
    assert (await page.get_by_role('link', name='Users').count() > 0) == (role == 'admin') or (
        await page.get_by_role('button', name='Users').count() > 0
    ) == (role == 'admin')
    # sign out: RP-initiated logout at the provider, then back at Berth's sign-in page
    await page.get_by_role('button', name='Sign out').click()
    await page.wait_for_url('**/session/end**')
    await page.get_by_role('button', name='Yes, sign me out').click()
    await page.wait_for_url('**/login**')
    await page.goto('/containers')
    await page.wait_for_url('**/login**')


async def test_an_sso_account_is_owned_by_issuer_and_subject_never_by_its_name(
    idp_and_panel: tuple[str, Panel], browser: Browser
) -> None:
    issuer, panel = idp_and_panel
    page = await start_sso(browser, panel)
    await submit_idp_login(page, 'dana', 'dana-password')
    await page.wait_for_url(f'{panel.base_url}/**')
    accounts = Accounts(SQLiteDatabase(panel.data_dir / 'berth.sqlite3'))
    dana = accounts.get('dana')
    assert dana is not None and (dana.role, dana.source, dana.owner_id) == ('developer', 'oidc', f'{issuer}|dana')
    # another identity of the provider that comes with the same name is not given dana's account (and what she owns)
    accounts.database.execute('UPDATE users SET subject = ? WHERE username = ?', (f'{issuer}|someone-else', 'dana'))
    page = await start_sso(browser, panel)
    await submit_idp_login(page, 'dana', 'dana-password')
    await page.get_by_text('The name dana belongs to another identity in Berth.').wait_for()
    entries = AuditLog(accounts.database).entries(username='dana', action='auth.login')
    assert entries[0].result == 'refused: the name dana belongs to another identity in Berth'


async def test_user_in_no_group_is_refused_with_a_clear_page(
    idp_and_panel: tuple[str, Panel], browser: Browser
) -> None:
    _, panel = idp_and_panel
    page = await start_sso(browser, panel)
    await submit_idp_login(page, 'nora', 'nora-password')
    await page.get_by_text('nora is signed in at Test IdP, but is in none of the groups').wait_for()
    await page.goto('/containers')
    await page.wait_for_url('**/login**')


async def test_provider_refusal_lands_on_a_readable_page(idp_and_panel: tuple[str, Panel], browser: Browser) -> None:
    _, panel = idp_and_panel
    page = await start_sso(browser, panel)
    await submit_idp_login(page, 'oscar', 'not-the-password')
    await page.get_by_text('Sign-in failed: wrong username or password.').wait_for()
    assert 'Traceback' not in await page.content()


async def test_forged_state_is_refused(idp_and_panel: tuple[str, Panel]) -> None:
    _, panel = idp_and_panel
    async with httpx.AsyncClient() as client:
        callback = urlsplit(await callback_by_http(client, panel, 'oscar'))
        query = {key: values[0] for key, values in parse_qs(callback.query).items()}
        response = await client.get(
            f'{panel.base_url}/auth/callback?{urlencode({**query, "state": secrets.token_urlsafe(20)})}'
        )
        assert response.status_code == 400 and 'Sign-in failed' in response.text
        assert (await client.get(f'{panel.base_url}/containers')).headers['location'].startswith('/login')


async def test_replayed_code_is_refused(idp_and_panel: tuple[str, Panel]) -> None:
    _, panel = idp_and_panel
    async with httpx.AsyncClient() as client:
        # Given a code that was already used for a successful sign-in
        first = await callback_by_http(client, panel, 'oscar')
        response = await client.get(first)
        assert response.status_code == 302 and response.headers['location'] == '/'
        used_code = parse_qs(urlsplit(first).query)['code'][0]
    async with httpx.AsyncClient() as attacker:
        # When it is replayed inside a fresh, valid flow (so only the code is wrong)
        second = urlsplit(await callback_by_http(attacker, panel, 'oscar'))
        query = {key: values[0] for key, values in parse_qs(second.query).items()}
        response = await attacker.get(f'{panel.base_url}/auth/callback?{urlencode({**query, "code": used_code})}')
        # Then the provider refuses the exchange and Berth refuses the sign-in
        assert response.status_code == 400 and 'Sign-in failed' in response.text
        assert (await attacker.get(f'{panel.base_url}/containers')).headers['location'].startswith('/login')


async def real_id_token(issuer: str, client_id: str, secret: str, redirect_uri: str) -> tuple[dict, str]:
    """A genuine token response from the provider for ``client_id`` (code + PKCE, done by hand)."""
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b'=').decode()
    async with httpx.AsyncClient() as client:
        callback = await follow_login(
            client,
            f'{issuer}/auth?'
            + urlencode(
                {
                    'client_id': client_id,
                    'redirect_uri': redirect_uri,
                    'response_type': 'code',
                    'scope': 'openid groups',
                    'state': 'x',
                    'nonce': nonce,
                    'code_challenge': challenge,
                    'code_challenge_method': 'S256',
                }
            ),
            'alice',
            redirect_uri,
        )
        code = parse_qs(urlsplit(callback).query)['code'][0]
        response = await client.post(
            f'{issuer}/token',
            auth=(client_id, secret),
            data={
                'grant_type': 'authorization_code',
                'code': code,
                'redirect_uri': redirect_uri,
                'code_verifier': verifier,
            },
        )
    response.raise_for_status()
    return response.json(), nonce


async def test_id_token_for_another_audience_is_refused(idp_and_panel: tuple[str, Panel], tmp_path: Path) -> None:
    issuer, panel = idp_and_panel
    settings = Settings(
        data_dir=tmp_path,
        oidc_issuer=issuer,
        oidc_client_id='berth',
        oidc_client_secret='berth-secret',
        public_url=panel.base_url,
    )
    database = SQLiteDatabase(tmp_path / 'x.sqlite3')
    accounts = Accounts(database)
    login = OidcLogin(settings, accounts, Sessions(accounts, idle_seconds=60, max_seconds=60), AuditLog(database))
    # a genuine token for Berth passes Berth's checks (so the refusal below is about the audience only)
    own, own_nonce = await real_id_token(issuer, 'berth', 'berth-secret', f'{panel.base_url}/auth/callback')
    claims = await login.client.parse_id_token(own, own_nonce, claims_options=login.claims_options)
    assert claims['aud'] == 'berth'
    # a genuine token the same provider issued to another application is refused
    other, other_nonce = await real_id_token(issuer, 'other-app', 'other-secret', OTHER_REDIRECT)
    with pytest.raises(Exception, match='aud'):
        await login.client.parse_id_token(other, other_nonce, claims_options=login.claims_options)


async def test_sso_sign_in_starts_a_new_session_and_stays_on_this_panel(idp_and_panel: tuple[str, Panel]) -> None:
    _, panel = idp_and_panel
    callback_uri = f'{panel.base_url}/auth/callback'
    async with httpx.AsyncClient() as client:
        # Given a browser that asked for /images, just back from the provider with the cookie it had before
        callback = await follow_login(client, f'{panel.base_url}/auth/login?redirect_to=/images', 'oscar', callback_uri)
        before = client.cookies['session']
        # When the callback signs it in
        response = await client.get(callback)
        # Then it goes where it asked, in a new session; the cookie from before is not signed in
        assert response.status_code == 302 and response.headers['location'] == '/images'
        after = client.cookies['session']
        assert browser_id(after) != browser_id(before)
        assert await is_signed_in(panel, after) and not await is_signed_in(panel, before)
    async with httpx.AsyncClient() as client:
        # And a redirect to another site is replaced by the home page (the dashboard)
        callback = await follow_login(
            client, f'{panel.base_url}/auth/login?redirect_to=/%5Cevil.example/', 'oscar', callback_uri
        )
        assert (await client.get(callback)).headers['location'] == '/'
