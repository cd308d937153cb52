"""Per-host roles: a group operator on one host and viewer on another; no role on a listed host it is not in; admins
everywhere; a sentence for a bad setting and for every refusal."""

from __future__ import annotations

import pytest

from core.endpoint_roles import EndpointRoles, EndpointRolesError
from core.permissions import Forbidden, Identity, Permission, Scope, require

ROLES = EndpointRoles.parse('{"b": {"viewer": ["team", "user:vic"], "operator": ["ops-b"]}, "c": {"viewer": ["x"]}}')


def person(role: str, *groups: str, username: str = 'pat') -> Identity:
    return Identity(username=username, role=role, groups=groups, endpoint_roles=ROLES.resolve(username, role, groups))


def test_operator_on_a_viewer_on_b_nothing_on_c() -> None:
    pat = person('operator', 'team')
    assert (pat.role_on('local'), pat.role_on('b'), pat.role_on('c')) == ('operator', 'viewer', '')
    assert pat.can(Permission.CONTAINER_LIFECYCLE, Scope(endpoint='local'))
    assert pat.can(Permission.CONTAINER_READ, Scope(endpoint='b'))
    assert not pat.can(Permission.CONTAINER_LIFECYCLE, Scope(endpoint='b'))
    assert not pat.can(Permission.CONTAINER_READ, Scope(endpoint='c'))
    with pytest.raises(Forbidden) as refused:
        require(pat, Permission.CONTAINER_LIFECYCLE, 'stop containers', Scope(endpoint='b'))
    assert str(refused.value) == 'pat is a viewer on host "b": stop containers needs the operator role'
    with pytest.raises(Forbidden) as refused:
        require(pat, Permission.CONTAINER_READ, 'see containers', Scope(endpoint='c'))
    assert str(refused.value) == 'pat has no role on host "c": see containers needs the viewer role'


def test_a_viewer_can_be_operator_on_one_host_and_accounts_are_named_directly() -> None:
    olga = person('viewer', 'ops-b', 'team', username='olga')
    assert olga.role_on('b') == 'operator'  # the highest of her groups' roles there
    assert olga.holds(Permission.CONTAINER_LIFECYCLE)  # so the pages that act show their buttons
    assert not olga.can(Permission.CONTAINER_LIFECYCLE, Scope(endpoint='local'))
    assert person('viewer', username='vic').role_on('b') == 'viewer'  # a local account, by name


def test_admins_stay_admins_everywhere_and_no_setting_changes_nothing() -> None:
    assert person('admin').endpoint_roles == ()
    assert EndpointRoles().resolve('pat', 'operator', ['team']) == ()


@pytest.mark.parametrize(
    ('setting', 'sentence'),
    [
        ('[1]', 'must be an object'),
        ('{"b": {"root": ["x"]}}', 'unknown role "root"'),
        ('{"b": {"viewer": "team"}}', 'must be a list of group names'),
        ('{"b": ', 'is not valid JSON'),
    ],
)
def test_a_bad_setting_is_a_sentence(setting: str, sentence: str) -> None:
    with pytest.raises(EndpointRolesError, match=sentence):
        EndpointRoles.parse(setting)
