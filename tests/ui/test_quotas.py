"""Quotas through the pages (NiceGUI's simulated user, main.py wired for real, the real engine): admins set them on
/admin/quotas with a sentence per wrong field, audited, and nobody else opens the page; a developer beyond hers is told
so in the New environment dialog, naming the limit and what she has; a running card shows CPU and memory and the idle
time left."""

from __future__ import annotations

from pathlib import Path

from nicegui import ui
from nicegui.testing import User

from components.environment_cards import EnvironmentCard
from core.environments.quotas import Applies, GiB, Limits, QuotaRule, QuotaRules
from core.environments.templates import Template, Templates
from core.storage.audit import AuditLog
from tests.support.eventually import eventually

from .test_environments import TEMPLATE, card_state, database, environment_name, sign_in_as
from .test_pages import sign_in

__all__ = ['environment_name']  # the fixture, shared with the environment page tests


async def test_admins_set_quotas_with_a_sentence_per_wrong_field_audited(user: User, data_dir: Path) -> None:
    await sign_in(user)
    await user.open('/admin/quotas')
    await user.should_see('Environment quotas')
    await user.should_see('CPUs and memory count the running environments only', retries=50)
    await user.should_see('No quotas: nobody is limited.')
    # When an admin adds a quota for the developer role, with wrong values first
    user.find(kind=ui.button, content='New quota').click()
    await user.should_see('Running at once', retries=50)
    user.find(kind=ui.input, content='Running at once').type('two')
    user.find(kind=ui.input, content='Memory (running)').type('lots')
    user.find(marker='save-quota').click()
    await user.should_see("'two' is not a whole number (0 or more)")
    await user.should_see("'lots' is not a memory size: write e.g. 512m or 1g")
    user.find(kind=ui.input, content='Running at once').clear().type('2')
    user.find(kind=ui.input, content='Memory (running)').clear().type('4g')
    user.find(marker='save-quota').click()
    # Then it is kept, listed and audited
    rules = QuotaRules(database(data_dir))
    await eventually(lambda: rules.all() != [], what='the quota saved')
    assert rules.all() == [QuotaRule(applies=Applies.ROLE, name='developer', limits=Limits(running=2, memory=4 * GiB))]
    table = next(iter(user.find(ui.table).elements))
    await eventually(lambda: len(table.rows) == 1, what='the quota listed')  # type: ignore[attr-defined]
    assert table.rows[0]['running'] == '2' and table.rows[0]['memory'] == '4 GiB'  # type: ignore[attr-defined]
    assert table.rows[0]['environments'] == 'any'  # type: ignore[attr-defined]
    entry = AuditLog(database(data_dir)).entries(action='quota.save')[0]
    assert (entry.target, entry.result, entry.username) == ('role:developer', 'succeeded', 'admin')
    # And deleting it asks first, audited
    user.find(ui.table).trigger('delete', 'role:developer')
    await user.should_see(marker='confirm-delete', retries=50)
    user.find(marker='confirm-delete').click()
    await eventually(lambda: rules.all() == [], what='the quota deleted')
    assert AuditLog(database(data_dir)).entries(action='quota.delete')[0].result == 'succeeded'


async def test_only_admins_open_the_quotas_page(user: User, data_dir: Path) -> None:
    await sign_in_as(user, data_dir, 'olga', role='operator')
    await user.open('/admin/quotas')
    await user.should_see('olga is an operator: manage quotas needs the admin role.', retries=50)
    await user.should_not_see('Environment quotas')


async def test_a_create_beyond_the_quota_says_the_limit_and_the_use(
    user: User, data_dir: Path, environment_name: str
) -> None:
    Templates(database(data_dir)).save(Template.from_mapping(TEMPLATE), by='test')
    limits = Limits(environments=1)
    QuotaRules(database(data_dir)).save(QuotaRule(applies=Applies.ROLE, name='developer', limits=limits), by='test')
    # Given dana with her one environment, running: its card shows CPU, memory and the idle time left
    await sign_in_as(user, data_dir, 'dana')
    user.find(kind=ui.button, content='New environment').click()
    await user.should_see('Template', retries=50)
    user.find('Name').type(environment_name)
    user.find(marker='create-environment').click()
    await eventually(lambda: card_state(user, environment_name) == 'running', 30, what='the environment to run')
    card = next(card for card in user.find(EnvironmentCard).elements if isinstance(card, EnvironmentCard))
    await eventually(lambda: str(card.usage.text).startswith('CPU '), 30, what='CPU and memory on the card')
    assert ' · memory ' in str(card.usage.text) and str(card.usage.text).endswith(' / 67.1 MB')  # 64 MiB
    assert card.idle.text == 'Idle stop in 30 minutes'
    # When she asks for a second one, the dialog says why not, and nothing is made
    user.find(kind=ui.button, content='New environment').click()
    await user.should_see('Template', retries=50)
    user.find('Name').type(f'{environment_name}b')
    user.find(marker='create-environment').click()
    await user.should_see(f'dana may have 1 environment and already has 1 ({environment_name}).', retries=50)
    entry = AuditLog(database(data_dir)).entries(username='dana', action='environment.create')[0]
    assert entry.result == f'refused: dana may have 1 environment and already has 1 ({environment_name})'
