"""The volume commands' checks, before anything is queued: permissions on each volume's scope (refusals audited),
driver options for admins only, Berth's own volumes, in-use refusals naming the containers, the prune re-check.
A state filled by hand and a recording sender stand in for the engine and the broker."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.commands.dispatch import Commands
from core.errors import CommandError
from core.jobs.store import JobStore
from core.permissions import Forbidden, Identity
from core.state.containers import ContainerRow
from core.state.model import DockerState
from core.state.volumes import VolumeRow
from core.storage.audit import AuditLog
from core.storage.sqlite import SQLiteDatabase

VIEWER = Identity(username='victor', role='viewer')
OPERATOR = Identity(username='olga', role='operator')
ADMIN = Identity(username='ada', role='admin')
ANONYMOUS, ANONYMOUS_USED = 'a' * 64, 'b' * 64
Sent = list[tuple[dict[str, Any], tuple[Any, ...]]]


@pytest.fixture
def sent() -> Sent:
    return []


@pytest.fixture
def commands(sent: Sent) -> Commands:
    state = DockerState()
    state.replace_volumes(
        [
            VolumeRow(name='shop-data'),
            VolumeRow(name='scratch'),
            VolumeRow(name=ANONYMOUS),
            VolumeRow(name=ANONYMOUS_USED),
            VolumeRow(name='berth-keys', labels={'berth.protected': 'true'}),
            VolumeRow(name='panel-data'),
        ]
    )
    state.replace_all(
        [
            ContainerRow(id='1' * 64, name='web', image='busybox', state='running', volumes=['shop-data']),
            ContainerRow(
                id='2' * 64, name='cron', image='busybox', state='exited', volumes=['shop-data', ANONYMOUS_USED]
            ),
            ContainerRow(
                id='3' * 64,
                name='berth-panel',
                image='berth',
                state='running',
                labels={'berth.protected': 'true'},
                volumes=['panel-data'],
            ),
        ]
    )

    def send(job: dict[str, Any], *arguments: Any) -> None:
        sent.append((job, arguments))

    database = SQLiteDatabase(':memory:')
    kinds = ('volume.create', 'volume.remove', 'volume.prune')
    return Commands(state=state, jobs=JobStore(database), audit=AuditLog(database), senders=dict.fromkeys(kinds, send))


def last_audit(commands: Commands) -> tuple[str, str, str, dict[str, Any]]:
    entry = commands.audit.entries(limit=1)[0]
    return entry.username, entry.action, entry.result, json.loads(entry.params)


async def test_a_viewer_changes_no_volume_and_each_refusal_is_audited(commands: Commands, sent: Sent) -> None:
    for kind, attempt in (
        ('volume.create', commands.create_volume(VIEWER, 'new-data')),
        ('volume.remove', commands.remove_volume(VIEWER, 'scratch')),
        ('volume.prune', commands.prune_volumes(VIEWER, 'anonymous', [ANONYMOUS])),
    ):
        with pytest.raises(Forbidden, match=r'victor is a viewer: .* needs the operator role'):
            await attempt
        username, action, result, _ = last_audit(commands)
        assert (username, action, result[:8]) == ('victor', kind, 'refused:')
    assert not sent


async def test_driver_options_are_the_admins_and_their_values_stay_out_of_the_audit(
    commands: Commands, sent: Sent
) -> None:
    # When an operator asks for driver options, the refusal is a sentence, audited with the option names only
    with pytest.raises(Forbidden, match='olga is an operator: set volume driver options needs the admin role'):
        await commands.create_volume(OPERATOR, 'nfs-data', 'local', 'team=shop', 'type=nfs\no=password=hunter2')
    username, action, result, params = last_audit(commands)
    assert (username, action, result[:8], params['driver_options']) == (
        'olga',
        'volume.create',
        'refused:',
        ['o', 'type'],
    )
    assert 'hunter2' not in str(commands.audit.entries())
    assert not sent
    # An operator may name another driver as long as no options come with it; an admin may set options
    await commands.create_volume(OPERATOR, 'remote-data', 'vieux/sshfs')
    await commands.create_volume(ADMIN, 'tmp-data', 'local', ['team=shop'], ['type=tmpfs', 'device=tmpfs'])
    assert [(job['kind'], job['role'], arguments) for job, arguments in sent] == [
        (
            'volume.create',
            'operator',
            ('create', 'remote-data', {'driver': 'vieux/sshfs', 'labels': {}, 'driver_options': {}}),
        ),
        (
            'volume.create',
            'admin',
            (
                'create',
                'tmp-data',
                {'driver': 'local', 'labels': {'team': 'shop'}, 'driver_options': {'type': 'tmpfs', 'device': 'tmpfs'}},
            ),
        ),
    ]


async def test_bad_input_is_a_sentence_for_each_problem_and_nothing_is_queued(commands: Commands, sent: Sent) -> None:
    with pytest.raises(CommandError) as error:
        await commands.create_volume(OPERATOR, 'my data', 'local', 'team\nowner=me')
    assert str(error.value) == (
        "volume name 'my data' is not valid: use letters, digits and . _ -; label 'team' must be written key=value"
    )
    with pytest.raises(CommandError, match='a volume named shop-data already exists'):
        await commands.create_volume(OPERATOR, 'shop-data')
    with pytest.raises(Forbidden, match=r"set Berth's own labels \(berth.protected\) needs the admin role"):
        await commands.create_volume(OPERATOR, 'sneaky', 'local', 'berth.protected=true')
    assert not sent


async def test_a_volume_in_use_is_refused_naming_its_containers_unless_forced(commands: Commands, sent: Sent) -> None:
    with pytest.raises(CommandError) as error:
        await commands.remove_volume(OPERATOR, 'shop-data')
    assert str(error.value) == (
        'volume shop-data is in use by cron, web: remove them first, or force the removal (which removes them)'
    )
    assert not sent
    await commands.remove_volume(OPERATOR, 'shop-data', force=True)
    await commands.remove_volume(OPERATOR, 'scratch')
    assert [arguments for _, arguments in sent] == [
        ('remove', 'shop-data', {'force': True, 'containers': ['2' * 64, '1' * 64]}),
        ('remove', 'scratch', {'force': False, 'containers': []}),
    ]
    with pytest.raises(CommandError, match='volume gone-already no longer exists'):
        await commands.remove_volume(OPERATOR, 'gone-already')


async def test_berths_own_volumes_are_the_admins(commands: Commands, sent: Sent) -> None:
    # labelled, or mounted by one of Berth's own containers (even forced)
    for name in ('berth-keys', 'panel-data'):
        with pytest.raises(Forbidden, match="olga is an operator: remove Berth's own volumes needs the admin role"):
            await commands.remove_volume(OPERATOR, name, force=True)
        assert last_audit(commands)[2].startswith('refused:')
    assert not sent
    await commands.remove_volume(ADMIN, 'berth-keys')
    assert [(job['role'], arguments[1]) for job, arguments in sent] == [('admin', 'berth-keys')]


async def test_prune_previews_and_queues_exactly_what_still_qualifies(commands: Commands, sent: Sent) -> None:
    # The preview: unused anonymous volumes; all unused ones (named too) only when chosen; never Berth's own
    assert [row.name for row in commands.volume_prune_candidates(OPERATOR, 'anonymous')] == [ANONYMOUS]
    assert [row.name for row in commands.volume_prune_candidates(OPERATOR, 'all')] == [ANONYMOUS, 'scratch']
    assert commands.volume_prune_candidates(None, 'all') == []
    # A confirmed name that no longer qualifies (named, in this mode; in use) refuses the whole prune
    for names, gone in (([ANONYMOUS, 'scratch'], 'scratch'), ([ANONYMOUS_USED], ANONYMOUS_USED)):
        with pytest.raises(CommandError, match=f'the list changed meanwhile \\({gone} no longer qualifies\\)'):
            await commands.prune_volumes(OPERATOR, 'anonymous', names)
    with pytest.raises(CommandError, match='there are no unused anonymous volumes to remove'):
        await commands.prune_volumes(OPERATOR, 'anonymous', [])
    with pytest.raises(CommandError, match="unknown prune mode 'everything'"):
        await commands.prune_volumes(OPERATOR, 'everything', [ANONYMOUS])
    assert not sent
    # The job carries exactly the confirmed names
    await commands.prune_volumes(OPERATOR, 'all', ['scratch', ANONYMOUS, 'scratch'])
    job, arguments = sent[0]
    assert (job['kind'], job['target_name'], arguments) == (
        'volume.prune',
        'all unused volumes',
        ('prune', '', {'names': ['scratch', ANONYMOUS]}),
    )
