"""Dev environments end to end: headless Chromium, the real IdP (developers dana and dev2 in berth-developers), Berth as
a subprocess with templates from templates.yaml (idle-stop minutes of a second), the real engine. dana creates an
environment in the page and gets an echo back in its terminal; dev2 sees none of it and is refused its terminal, logs
and page by name and by id, audited. An environment nobody uses is stopped for idleness, which its owner is told and
its card says; a create beyond the group's quota is refused with the limit and the use.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, Page, expect

from core.environments.quotas import Applies, Limits, QuotaRule, QuotaRules
from core.environments.templates import EnvironmentNames
from core.storage.audit import AuditLog
from core.storage.sqlite import SQLiteDatabase
from tests.support import BUSYBOX
from tests.support.panel import Panel

from .test_recordings import SCREEN_TEXT
from .test_sign_in import idp_for, start_sso, submit_idp_login
from .test_terminal import TIMEOUT_MS, processes, shows_line, type_line

TEMPLATES_YAML = f"""
- name: bt-box
  description: busybox with a home
  image: {BUSYBOX}
  home: /home/dev
  cpus: 0.5
  memory: 64m
  idle_minutes: 600
  shell: /bin/sh
  groups: [berth-developers]
- name: bt-idle
  image: {BUSYBOX}
  home: /home/dev
  cpus: 0.5
  memory: 64m
  idle_minutes: 4
  shell: /bin/sh
"""
IDLE_MINUTE_SECONDS = '1'  # bt-box stops after 10 idle minutes of a second, bt-idle after 4


@pytest.fixture(scope='module')
def sso_panel() -> Iterator[tuple[str, Panel]]:
    """The IdP and a panel that seeds its templates from templates.yaml at start."""
    panel = Panel(env={'BERTH_IDLE_MINUTE_SECONDS': IDLE_MINUTE_SECONDS})
    panel.data_dir.mkdir(parents=True)
    (panel.data_dir / 'templates.yaml').write_text(TEMPLATES_YAML)
    with idp_for(panel) as started:
        yield started


@pytest.fixture
def environment_name() -> Iterator[str]:
    name = f'bt{uuid.uuid4().hex[:8]}'
    yield name
    remove_environment(name)


def remove_environment(name: str) -> None:
    listed = subprocess.run(
        ['docker', 'ps', '-aq', '--filter', f'label=berth.environment={name}'], capture_output=True, text=True
    )
    for container in listed.stdout.split():
        subprocess.run(['docker', 'rm', '-f', container], capture_output=True)
    volumes = subprocess.run(['docker', 'volume', 'ls', '-q'], capture_output=True, text=True).stdout.split()
    for volume in volumes:
        if volume.startswith('berth-env-') and f'-{name}-' in volume:
            subprocess.run(['docker', 'volume', 'rm', volume], capture_output=True)


async def signed_in(browser: Browser, panel: Panel, username: str) -> Page:
    page = await start_sso(browser, panel)
    await submit_idp_login(page, username, f'{username}-password')
    await page.wait_for_url('**/environments', timeout=TIMEOUT_MS)  # where a developer lands
    await page.get_by_text(f'{username} · developer').wait_for()
    return page


async def test_a_developer_creates_an_environment_and_nobody_else_reaches_it(
    sso_panel: tuple[str, Panel], browser: Browser, environment_name: str
) -> None:
    issuer, panel = sso_panel
    container = EnvironmentNames.of(owner_id=f'{issuer}|dana', username='dana', name=environment_name).container
    # Given dana, a developer, on her environments page: she creates one from the template
    dana = await signed_in(browser, panel, 'dana')
    await dana.get_by_role('button', name='New environment').click()
    await dana.get_by_role('dialog', name='New environment').get_by_label('Name').fill(environment_name)
    await dana.get_by_role('button', name='Create environment').click()
    card = dana.get_by_role('region', name=f'Environment {environment_name}')
    await expect(card.get_by_text('running', exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    # When she opens its terminal: one click, its shell in the home directory, an echo comes back
    await card.get_by_role('button', name='Open terminal').click()
    await dana.wait_for_url(f'**/environments/{container}/terminal')
    await dana.locator('.xterm-rows').get_by_text('/home/dev #').first.wait_for(timeout=TIMEOUT_MS)
    await dana.locator('[data-berth-terminal]').click()
    await type_line(dana, 'echo round-$((6*7))')
    await shows_line(dana, 'round-42')
    shells = processes(container)
    # Then dev2, another developer, does not see it on its page
    dev2 = await signed_in(browser, panel, 'dev2')
    await expect(dev2.get_by_text('No environments yet.')).to_be_visible()
    await expect(dev2.get_by_text(environment_name)).to_have_count(0)
    # And is refused its terminal, logs and detail page, by name and by id
    container_id = subprocess.run(
        ['docker', 'inspect', '-f', '{{.Id}}', container], check=True, capture_output=True, text=True
    ).stdout.strip()
    refusals = {
        '/environments/{}/terminal': 'dev2 is a developer: open a terminal needs the operator role.',
        '/containers/{}/terminal': 'dev2 is a developer: open a terminal needs the operator role.',
        '/containers/{}/logs': 'dev2 is a developer: read logs needs the viewer role.',
        '/containers/{}': 'dev2 is a developer: inspect containers needs the viewer role.',
    }
    for path, sentence in refusals.items():
        for target in (container, container_id[:12]):
            await dev2.goto(path.format(target))
            await expect(dev2.get_by_role('alert').filter(has_text=sentence)).to_be_visible(timeout=TIMEOUT_MS)
            await expect(dev2.locator('[data-berth-terminal]')).to_have_count(0)
    assert processes(container) == shells  # dev2 started nothing in it
    # And every refusal is in the audit log
    entries = AuditLog(SQLiteDatabase(panel.data_dir / 'berth.sqlite3')).entries(username='dev2')
    refused = {(entry.action, entry.target) for entry in entries if entry.result.startswith('refused: ')}
    for action in ('container.exec', 'logs.follow', 'container.inspect'):
        assert {(action, container), (action, container_id[:12])} <= refused, refused

    # And dana's session was recorded: it replays her output, without what she typed (input is not recorded)
    await dana.goto('/recordings')  # leaving the terminal ends the session
    await dana.get_by_role('row').filter(has_text=container).get_by_role('link', name='Replay').click()
    await expect(dana.get_by_role('status').filter(has_text='events')).to_be_visible(timeout=TIMEOUT_MS)  # loaded
    await dana.get_by_role('slider', name='Seek').fill('1000')
    await dana.wait_for_function(f'() => ({SCREEN_TEXT})().includes("round-42")', timeout=TIMEOUT_MS)
    recording = dana.url.rsplit('/', 1)[-1]
    cast = (panel.data_dir / 'recordings' / f'{recording}.cast').read_text().splitlines()
    assert json.loads(cast[0])['berth']['owner'] == f'{issuer}|dana'
    assert not [line for line in cast[1:] if json.loads(line)[1] == 'i']
    # But dev2 can neither replay it nor open dana's jobs
    await dev2.goto(f'/recordings/{recording}')
    await expect(dev2.get_by_text('dev2 may replay only the terminal sessions they opened.')).to_be_visible()
    database = SQLiteDatabase(panel.data_dir / 'berth.sqlite3')
    job_id = database.query("SELECT job_id FROM jobs WHERE requested_by = 'dana' LIMIT 1")[0]['job_id']
    await dev2.goto(f'/jobs/{job_id}')
    await expect(dev2.get_by_text(f'No job with id "{job_id}".')).to_be_visible()
    await dev2.goto('/jobs')
    await expect(dev2.get_by_text(environment_name)).to_have_count(0)
    actions = {
        entry.action for entry in AuditLog(database).entries(username='dev2') if entry.result.startswith('refused')
    }
    assert {'recording.replay', 'job.read'} <= actions


async def test_an_idle_environment_is_stopped_and_a_create_beyond_the_quota_is_refused(
    sso_panel: tuple[str, Panel], browser: Browser, environment_name: str
) -> None:
    issuer, panel = sso_panel
    container = EnvironmentNames.of(owner_id=f'{issuer}|dana', username='dana', name=environment_name).container
    rules = QuotaRules(SQLiteDatabase(panel.data_dir / 'berth.sqlite3'))
    rules.save(QuotaRule(applies=Applies.GROUP, name='berth-developers', limits=Limits(environments=1)), by='test')
    try:
        # Given dana's environment from a template that stops after 4 idle minutes (of a second here)
        dana = await signed_in(browser, panel, 'dana')
        await dana.get_by_role('button', name='New environment').click()
        dialog = dana.get_by_role('dialog', name='New environment')
        await dialog.get_by_role('combobox', name='Template').click()
        await dana.get_by_role('option', name='bt-idle').click()
        await dialog.get_by_label('Name').fill(environment_name)
        await dana.get_by_role('button', name='Create environment').click()
        card = dana.get_by_role('region', name=f'Environment {environment_name}')
        # When nobody opens a terminal in it, the system stops it: dana is told, and its card says why
        sentence = f'Stopped {container} after 4 idle minutes'
        await expect(card.get_by_text('exited', exact=True)).to_be_visible(timeout=TIMEOUT_MS)
        await expect(card.get_by_text(sentence, exact=True)).to_be_visible(timeout=TIMEOUT_MS)
        await expect(dana.locator('.q-notification').filter(has_text=sentence)).to_be_visible(timeout=TIMEOUT_MS)
        # And a second environment is beyond her group's quota of one: the dialog names the limit and the use
        await dana.get_by_role('button', name='New environment').click()
        await dialog.get_by_label('Name').fill(f'{environment_name}b')
        await dana.get_by_role('button', name='Create environment').click()
        refusal = f'dana may have 1 environment and already has 1 ({environment_name}).'
        await expect(dialog.get_by_role('alert').filter(has_text=refusal)).to_be_visible(timeout=TIMEOUT_MS)
    finally:
        rules.delete(Applies.GROUP, 'berth-developers')
        remove_environment(f'{environment_name}b')
