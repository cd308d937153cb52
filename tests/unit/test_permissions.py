"""core.permissions: roles are permission sets in one table; the guard decides on the resource's scope."""

from __future__ import annotations

import pytest

from core import permissions
from core.permissions import (
    OWNER_LABEL,
    ROLE_GRANTS,
    Forbidden,
    Identity,
    Permission,
    Reach,
    Role,
    Scope,
    lowest_role,
    require,
    role_allows,
)
from core.state.containers import ContainerRow

VIEWER_ONLY = {
    Permission.CONTAINER_READ,
    Permission.CONTAINER_LOGS,
    Permission.IMAGE_READ,
    Permission.VOLUME_READ,
    Permission.NETWORK_READ,
    Permission.JOB_READ,
    Permission.SANDBOX_READ,
    Permission.STACK_READ,
}
ADMIN_ONLY = {
    Permission.CONTAINER_BODY_ADMIN,
    Permission.VOLUME_DRIVER_OPTIONS,
    Permission.BERTH_INTERNALS,
    Permission.USERS_MANAGE,
    Permission.AUDIT_READ,
    Permission.ENVIRONMENT_ASSIGN,
    Permission.TEMPLATES_MANAGE,
    Permission.QUOTAS_MANAGE,
    Permission.RUNTIMES_MANAGE,
    Permission.ENDPOINTS_MANAGE,
}


OPERATOR_OWN_ONLY = {Permission.RECORDING_READ}  # operators replay the terminal sessions they opened


def test_the_three_roles_keep_the_powers_they_had() -> None:
    for permission in Permission:
        assert role_allows('admin', permission)
        assert role_allows('operator', permission) == (permission not in ADMIN_ONLY | OPERATOR_OWN_ONLY)
        assert Identity(username='o', role='operator').holds(permission) == (permission not in ADMIN_ONLY)
        assert role_allows('viewer', permission) == (permission in VIEWER_ONLY)
    assert not role_allows('', Permission.CONTAINER_READ)
    assert not role_allows('root', Permission.CONTAINER_READ)


def test_a_developer_acts_only_on_what_carries_its_own_identity() -> None:
    dana = Identity(username='dana', role='developer', subject='https://idp.example|dana-42')
    mine = Scope(owner=dana.owner_id)
    for permission in Permission:
        if permission in {
            Permission.CONTAINER_READ,
            Permission.CONTAINER_LOGS,
            Permission.CONTAINER_LIFECYCLE,
            Permission.CONTAINER_EXEC,
            Permission.RECORDING_READ,
            Permission.JOB_READ,
            Permission.ENVIRONMENT_CREATE,
            Permission.ENVIRONMENT_DELETE,
            Permission.SANDBOX_RUN,
            Permission.SANDBOX_READ,
        }:
            assert dana.holds(permission) and dana.can(permission, mine), permission
            assert not dana.can(permission, Scope(owner='https://idp.example|eve-7')), permission
            assert not dana.can(permission), permission  # nobody's (unowned) containers are not hers either
        else:
            assert not dana.holds(permission) and not dana.can(permission, mine), permission
    # the display name is no owner: a container labelled with 'dana' is not hers
    assert not dana.can(Permission.CONTAINER_EXEC, Scope(owner='dana'))
    with pytest.raises(Forbidden, match='dana is a developer: open a terminal needs the operator role'):
        require(dana, Permission.CONTAINER_EXEC, 'open a terminal')


def test_environments_are_created_and_deleted_by_their_owner_handed_over_by_admins() -> None:
    dana = Identity(username='dana', role='developer', subject='https://idp.example|dana-42')
    olga = Identity(username='olga', role='operator')
    theirs = Scope(owner='https://idp.example|eve-7')
    for permission in (Permission.ENVIRONMENT_CREATE, Permission.ENVIRONMENT_DELETE):
        assert dana.can(permission, Scope(owner=dana.owner_id)) and not dana.can(permission, theirs)
        assert olga.can(permission, theirs) and not Identity(username='vic', role='viewer').holds(permission)
    for permission in (Permission.ENVIRONMENT_ASSIGN, Permission.TEMPLATES_MANAGE, Permission.QUOTAS_MANAGE):
        assert lowest_role(permission) == 'admin' and not olga.holds(permission) and not dana.holds(permission)
        assert Identity(username='ada', role='admin').can(permission, theirs)


def test_scripts_are_run_by_developers_operators_and_admins_and_a_developer_s_runs_are_its_own() -> None:
    dana = Identity(username='dana', role='developer', subject='https://idp.example|dana-42')
    eve_run = Scope(owner='https://idp.example|eve-7')
    assert dana.can(Permission.SANDBOX_RUN, Scope(owner=dana.owner_id)) and not dana.can(
        Permission.SANDBOX_RUN, eve_run
    )
    assert not dana.can(Permission.SANDBOX_READ, eve_run)
    for role in ('operator', 'admin'):
        assert role_allows(role, Permission.SANDBOX_RUN, eve_run) and role_allows(
            role, Permission.SANDBOX_READ, eve_run
        )
    viewer = Identity(username='vic', role='viewer')
    assert not viewer.holds(Permission.SANDBOX_RUN) and viewer.can(Permission.SANDBOX_READ, eve_run)
    assert lowest_role(Permission.RUNTIMES_MANAGE) == 'admin'
    with pytest.raises(Forbidden, match='vic is a viewer: run scripts needs the operator role'):
        require(viewer, Permission.SANDBOX_RUN, 'run scripts', Scope(owner=viewer.owner_id))


def test_a_refusal_names_the_lowest_role_that_grants_the_permission() -> None:
    assert lowest_role(Permission.CONTAINER_LOGS) == 'viewer'
    assert lowest_role(Permission.CONTAINER_EXEC) == 'operator'
    assert lowest_role(Permission.AUDIT_READ) == 'admin'
    viewer = Identity(username='vic', role='viewer')
    with pytest.raises(Forbidden, match='vic is a viewer: stop containers needs the operator role'):
        require(viewer, Permission.CONTAINER_LIFECYCLE, 'stop containers')
    with pytest.raises(Forbidden, match='sign in to read logs'):
        require(None, Permission.CONTAINER_LOGS, 'read logs')
    assert require(viewer, Permission.CONTAINER_LOGS, 'read logs') is viewer


def test_a_grant_limited_to_own_resources_checks_the_owner_label(monkeypatch: pytest.MonkeyPatch) -> None:
    # a role that may stop only its own containers is one row in the table, no caller changes
    table = {**ROLE_GRANTS, Role.VIEWER: {**ROLE_GRANTS[Role.VIEWER], Permission.CONTAINER_LIFECYCLE: Reach.OWN}}
    monkeypatch.setattr(permissions, 'ROLE_GRANTS', table)
    dana = Identity(username='dana', role='viewer', subject='https://idp.example|dana-42')
    mine = ContainerRow(id='a' * 64, name='mine', image='x', state='running', labels={OWNER_LABEL: dana.owner_id})
    theirs = ContainerRow(id='b' * 64, name='theirs', image='x', state='running', labels={OWNER_LABEL: 'eve'})
    nobodys = ContainerRow(id='c' * 64, name='shared', image='x', state='running')
    assert require(dana, Permission.CONTAINER_LIFECYCLE, 'stop containers', mine.scope) is dana
    for row in (theirs, nobodys):
        with pytest.raises(Forbidden, match='needs the operator role'):
            require(dana, Permission.CONTAINER_LIFECYCLE, 'stop containers', row.scope)
    # the display name is not the owner: only the stable subject is
    impostor = ContainerRow(id='d' * 64, name='x', image='x', state='running', labels={OWNER_LABEL: 'dana'})
    assert not dana.can(Permission.CONTAINER_LIFECYCLE, impostor.scope)


def test_rows_carry_their_endpoint_into_the_scope() -> None:
    row = ContainerRow.from_inspect(
        {'Id': 'e' * 64, 'Name': '/web', 'Config': {'Labels': {OWNER_LABEL: 'x'}}, 'State': {}}, endpoint='staging'
    )
    assert row.scope == Scope(endpoint='staging', owner='x')
    assert ContainerRow(id='f', name='f', image='x', state='exited').scope == Scope(endpoint='local', owner='')
