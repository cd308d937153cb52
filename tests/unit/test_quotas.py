"""Quota arithmetic: which rule's limits count for a person, and the sentence a create or a start beyond them gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.commands.spec import SpecError
from core.environments.quotas import (
    Applies,
    GiB,
    Held,
    Limits,
    MiB,
    Quota,
    QuotaRule,
    QuotaRules,
    limits_for,
    rule_from_form,
)
from core.storage.sqlite import SQLiteDatabase

WEB = Held(name='web', running=True, cpus=1.0, memory=GiB)
API = Held(name='api', running=True, cpus=0.5, memory=512 * MiB)
OLD = Held(name='old', running=False, cpus=2.0, memory=2 * GiB)
NEW = Held(name='new', running=True, cpus=1.0, memory=GiB)


def quota(**limits: float) -> Quota:
    return Quota(owner='local:dana', username='dana', limits=Limits(**limits))  # type: ignore[arg-type]


def rule(applies: Applies, name: str, **limits: float) -> QuotaRule:
    return QuotaRule(applies=applies, name=name, limits=Limits(**limits))  # type: ignore[arg-type]


def test_the_running_limit_names_the_limit_and_what_runs() -> None:
    assert quota(running=2).start_refusal([WEB, API, OLD], NEW) == (
        'dana may run 2 environments at once and already runs 2 (api, web)'
    )
    assert quota(running=1).start_refusal([OLD], NEW) is None  # a stopped one does not run
    assert quota(running=1).start_refusal([WEB], NEW) == 'dana may run 1 environment at once and already runs 1 (web)'
    assert quota(running=0).start_refusal([], NEW) == 'dana may run 0 environments at once and already runs 0'


def test_the_number_of_environments_counts_stopped_ones_too() -> None:
    assert quota(environments=3).create_refusal([WEB, API, OLD], NEW) == (
        'dana may have 3 environments and already has 3 (api, old, web)'
    )
    assert quota(environments=4).create_refusal([WEB, API, OLD], NEW) is None
    # a create also starts: the running limits count as well
    assert quota(environments=4, running=2).create_refusal([WEB, API, OLD], NEW) == (
        'dana may run 2 environments at once and already runs 2 (api, web)'
    )


def test_cpus_and_memory_count_the_running_environments_with_the_new_one() -> None:
    assert quota(cpus=2.5).start_refusal([WEB, API, OLD], NEW) is None  # 1.5 running + 1 = 2.5: at the limit
    assert quota(cpus=2).start_refusal([WEB, API, OLD], NEW) == (
        'dana may use 2 CPUs in running environments and already uses 1.5 (api, web); new needs 1'
    )
    assert quota(memory=2 * GiB).start_refusal([WEB, API, OLD], NEW) == (
        'dana may use 2 GiB of memory in running environments and already uses 1.5 GiB (api, web); new needs 1 GiB'
    )
    assert quota(memory=3 * GiB).start_refusal([WEB, API, OLD], NEW) is None


def test_the_environment_being_started_is_not_counted_twice() -> None:
    stopped_new = Held(name='new', running=False, cpus=1.0, memory=GiB)
    assert quota(running=2, environments=3).start_refusal([WEB, stopped_new], NEW) is None
    assert quota(environments=2).create_refusal([WEB, stopped_new], NEW) is None


def test_an_accounts_own_rule_wins_then_its_most_generous_group_then_its_role() -> None:
    rules = [
        rule(Applies.ROLE, 'developer', environments=2, running=1, cpus=2, memory=4 * GiB),
        rule(Applies.GROUP, 'ml', running=3, cpus=8),
        rule(Applies.GROUP, 'web', running=2),
        rule(Applies.USER, 'dana', running=5),
        rule(Applies.ROLE, 'operator', environments=10),
    ]
    # a developer in no group: the role's limits
    assert limits_for(rules, username='eve', role='developer', groups=()) == Limits(
        environments=2, running=1, cpus=2, memory=4 * GiB
    )
    # in two groups: for each limit the most generous group that sets it, the role for the rest
    assert limits_for(rules, username='eve', role='developer', groups=('web', 'ml')) == Limits(
        environments=2, running=3, cpus=8, memory=4 * GiB
    )
    # dana's own rule wins over her groups for what it sets
    assert limits_for(rules, username='dana', role='developer', groups=('ml',)) == Limits(
        environments=2, running=5, cpus=8, memory=4 * GiB
    )
    # nobody's rule: not limited
    assert limits_for(rules, username='vic', role='viewer', groups=()).unlimited


def test_rules_are_kept_in_the_database(tmp_path: Path) -> None:
    rules = QuotaRules(SQLiteDatabase(tmp_path / 'berth.sqlite3'))
    rules.save(rule(Applies.ROLE, 'developer', running=1), by='ada')
    rules.save(rule(Applies.GROUP, 'ml', running=3, memory=8 * GiB), by='ada')
    rules.save(rule(Applies.ROLE, 'developer', running=2, cpus=1.5), by='ada')  # the same rule, changed
    assert rules.all() == [
        rule(Applies.GROUP, 'ml', running=3, memory=8 * GiB),
        rule(Applies.ROLE, 'developer', running=2, cpus=1.5),
    ]
    assert rules.quota(owner='o|dana', username='dana', role='developer', groups=['ml']) == Quota(
        owner='o|dana', username='dana', limits=Limits(running=3, cpus=1.5, memory=8 * GiB)
    )
    assert rules.delete(Applies.GROUP, 'ml') and not rules.delete(Applies.GROUP, 'ml')


def test_the_signed_form_comes_back_as_it_went() -> None:
    signed = quota(environments=3, running=2, cpus=1.5, memory=GiB)
    assert Quota.from_dict(signed.to_dict()) == signed
    with pytest.raises(ValueError, match='running'):
        Quota.from_dict({**signed.to_dict(), 'limits': {'running': -1}})
    with pytest.raises(ValueError, match='malformed'):
        Quota.from_dict({'owner': 'x'})


def test_the_admin_form_says_what_is_wrong_per_field() -> None:
    assert rule_from_form({'applies': 'group', 'name': ' ml ', 'running': '3', 'memory': '8g', 'cpus': ''}) == rule(
        Applies.GROUP, 'ml', running=3, memory=8 * GiB
    )
    with pytest.raises(SpecError) as raised:
        rule_from_form({'applies': 'user', 'name': '', 'environments': 'two', 'cpus': '-1', 'memory': 'lots'})
    assert raised.value.errors == {
        'name': 'name the user the quota applies to',
        'environments': "'two' is not a whole number (0 or more)",
        'cpus': 'the CPU limit must be more than 0',
        'memory': "'lots' is not a memory size: write e.g. 512m or 1g",
    }
