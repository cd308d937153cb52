"""Pages through NiceGUI's simulated user, with main.py wired for real (engine, embedded worker)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User

from components.container_table import ContainerTable
from tests.support.eventually import eventually

PASSWORD = 'admin-test-password'


async def sign_in(
    user: User, username: str = 'admin', password: str = PASSWORD, *, succeeds: bool = True, to: str = ''
) -> None:
    """Signs in at /login, landing on the home page (the dashboard) or on ``to``."""
    await user.open(f'/login?redirect_to={to}' if to else '/login')
    user.find('Username').type(username)
    user.find('Password').type(password)
    user.find(kind=ui.button, content='Sign in').click()
    if succeeds:  # the frame of every signed-in page names the user
        await user.should_see(f'{username} · ', retries=50)
    else:  # the password is checked off the event loop: wait for the page's answer
        await user.should_see(marker='sign-in-error', retries=50)


async def rows_of(user: User, predicate: Callable[[list[dict]], bool], timeout: float = 10) -> list[dict]:
    """The rows of the page's container tables, once ``predicate`` holds for them."""

    def rows() -> list[dict]:
        return [row for table in user.find(ContainerTable).elements for row in table.all_rows]  # type: ignore[attr-defined]

    await eventually(lambda: predicate(rows()), timeout, lambda: f'container rows to match, have {rows()}')
    return rows()


async def test_everything_needs_a_session(user: User) -> None:
    await user.open('/containers')
    await user.should_see('Sign in to manage this Docker host')
    await user.should_not_see('Containers')


async def test_wrong_password_is_a_sentence(user: User) -> None:
    await sign_in(user, password='wrong', succeeds=False)
    await user.should_see('Wrong username or password.')


async def test_repeated_wrong_passwords_are_rate_limited(user: User) -> None:
    for _ in range(5):
        await sign_in(user, password='wrong', succeeds=False)
        await user.should_see('Wrong username or password.')
    await sign_in(user, succeeds=False)  # even the right password waits now
    await user.should_see('Too many failed sign-ins. Try again in 5 minutes.')


async def test_containers_page_is_live(user: User, make_container: Callable[..., str]) -> None:
    await sign_in(user)
    await user.open('/containers')
    await user.should_see('containers,')
    # When a container appears on the host with the plain CLI
    name = make_container(labels={'com.docker.compose.project': 'shop'})
    # Then the open page shows it without a reload
    rows = await rows_of(user, lambda rows: any(row['name'] == name and row['state'] == 'running' for row in rows))
    row = next(row for row in rows if row['name'] == name)
    assert row['project'] == 'shop' and row['status'].startswith('Up ')
    # And grouping by compose project puts it under its project
    user.find('Group by compose project').click()
    await user.should_see('shop')


async def test_kill_from_the_page_notifies_with_the_result(user: User, make_container: Callable[..., str]) -> None:
    await sign_in(user)
    await user.open('/containers')
    name = make_container()
    await rows_of(user, lambda rows: any(row['name'] == name for row in rows))
    # When the operator clicks Kill on the container's page
    await user.open(f'/containers/{name}')
    user.find(marker='Kill').click()
    # Then the job runs in the embedded worker, the notification says what happened, and the state follows
    await user.should_see(f'Kill {name}: killed — asked by admin', retries=100)
    await user.open('/containers')
    await rows_of(user, lambda rows: any(row['name'] == name and row['state'] == 'exited' for row in rows))
    await user.open('/jobs')
    jobs = [row for table in user.find(ui.table).elements for row in table.rows]  # type: ignore[attr-defined]
    assert any(
        row['what'] == 'container.kill'
        and row['status'] == 'succeeded'
        and row['who'] == 'admin'
        and row['target'] == name
        for row in jobs
    )


async def test_detail_page_renders_inspect_data_as_text(user: User, make_container: Callable[..., str]) -> None:
    name = make_container(labels={'evil': '<img src=x onerror=alert(1)>'})
    await sign_in(user)
    await user.open('/containers')
    await rows_of(user, lambda rows: any(row['name'] == name for row in rows))
    await user.open(f'/containers/{name}')
    await user.should_see('<img src=x onerror=alert(1)>', retries=50)
    await user.should_not_see(kind=ui.html)
    await user.open('/containers/does-not-exist')
    await user.should_see('No container named or with id "does-not-exist".')


async def test_healthz_answers_without_a_session(user: User) -> None:
    async def engine_connected() -> bool:
        return (await user.http_client.get('/healthz')).status_code == 200

    await eventually(engine_connected, what='/healthz answers 200 once the engine is connected')
    response = await user.http_client.get('/healthz')
    body = response.json()
    assert (body['status'], body['down']) == ('ok', [])
    assert body['broker'] == {'ok': True, 'kind': 'embedded', 'message': 'ok'}
    assert body['database'] == {'ok': True, 'message': 'ok'}
    assert body['docker']['endpoints'] == {'local': {'ok': True, 'message': 'connected'}}
    assert 'password' not in response.text.lower()
    # /livez (the container HEALTHCHECK) answers while the process serves, also without a session
    livez = await user.http_client.get('/livez')
    assert (livez.status_code, livez.json()) == (200, {'status': 'ok'})


@pytest.fixture
def unreachable_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """DOCKER_HOST naming a socket nothing listens on: set before the `user` fixture runs main.py."""
    url = f'unix://{tmp_path}/no-engine-here.sock'
    monkeypatch.setenv('DOCKER_HOST', url)
    return url


async def test_healthz_is_503_naming_the_engine_that_is_down(unreachable_engine: str, user: User) -> None:
    response = await user.http_client.get('/healthz')
    body = response.json()
    assert (response.status_code, body['status'], body['down']) == (503, 'degraded', ['docker local'])
    assert body['docker']['endpoints']['local'] == {'ok': False, 'message': 'Docker engine unreachable'}
    assert unreachable_engine.removeprefix('unix://') not in response.text  # no paths, no errors, no versions
    # the process still serves: /livez keeps the container healthy while the engine is away
    assert (await user.http_client.get('/livez')).status_code == 200


async def test_container_and_image_urls_carry_the_endpoint(user: User, make_container: Callable[..., str]) -> None:
    await sign_in(user)
    await user.open('/containers')
    name = make_container()
    rows = await rows_of(user, lambda rows: any(row['name'] == name for row in rows))
    # The table's link goes to the endpoint-qualified page, which shows the container
    assert next(row for row in rows if row['name'] == name)['endpoint'] == 'local'
    await user.open(f'/hosts/local/containers/{name}')
    await user.should_see('Overview')
    await user.should_see(name)
    await user.open('/hosts/local/images/berth-test/busybox:latest')
    await user.should_see('History')
    # A host the panel does not serve finds nothing there, with a sentence naming it
    await user.open(f'/hosts/elsewhere/containers/{name}')
    await user.should_see(f'No container named or with id "{name}" on host "elsewhere".')
    await user.open('/hosts/elsewhere/images/berth-test/busybox:latest')
    await user.should_see('No image with id or tag "berth-test/busybox:latest" on host "elsewhere".')
