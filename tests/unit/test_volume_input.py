"""What a new volume may be asked for, what a prune would take, volume sizes, and the shared disk-usage answer."""

from __future__ import annotations

import asyncio

import pytest

from core.commands.volume_input import name_problem, parse_pairs, volume_request
from core.docker.disk_usage import DiskUsageCache
from core.state.volumes import VolumeRow, prune_candidates, volume_sizes

ANONYMOUS = 'a' * 64


@pytest.mark.parametrize('name', ['db', 'shop_data', 'x.1-2', 'A9', ANONYMOUS])
def test_names_the_engine_accepts(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize(
    ('name', 'sentence'),
    [
        ('', 'enter a volume name'),
        ('x', "volume name 'x' is too short: use at least two characters"),
        ('my data', "volume name 'my data' is not valid: use letters, digits and . _ -"),
        ('-data', "volume name '-data' is not valid: use letters, digits and . _ -, starting with a letter or digit"),
        ('/srv/data', 'starting with a letter or digit'),
        ('données', "volume name 'données' is not valid"),
    ],
)
def test_a_bad_name_gets_a_sentence(name: str, sentence: str) -> None:
    problem = name_problem(name)
    assert problem is not None and sentence in problem


def test_labels_and_options_are_key_value_lines_with_a_sentence_for_each_bad_one() -> None:
    pairs, problems = parse_pairs('team=shop\n\n  tier = web \nnote=a=b\nlonely\n=x\nmy key=1\nteam=again', 'label')
    assert pairs == {'team': 'shop', 'tier': 'web', 'note': 'a=b'}
    assert problems == [
        "label 'lonely' must be written key=value",
        "label '=x' has no key before the '='",
        "label key 'my key' may not contain spaces",
        "label 'team' is given twice",
    ]
    assert parse_pairs(['o=size=64m', 'type=tmpfs'], 'driver option') == ({'o': 'size=64m', 'type': 'tmpfs'}, [])


def test_a_request_lists_every_problem_and_keeps_option_values_out_of_the_audit() -> None:
    request, problems = volume_request(' x ', 'bad driver!', 'nope', 'device')
    assert problems == [
        "volume name 'x' is too short: use at least two characters",
        "driver 'bad driver!' is not a valid driver name: use letters, digits and . _ - : /",
        "label 'nope' must be written key=value",
        "driver option 'device' must be written key=value",
    ]
    request, problems = volume_request('cache', '', 'berth.owner=eve\nteam=a', 'o=password=hunter2')
    assert not problems and request.driver == 'local' and request.reserved_labels == ['berth.owner']
    assert request.audit_summary() == {
        'driver': 'local',
        'labels': {'berth.owner': 'eve', 'team': 'a'},
        'driver_options': ['o'],
    }
    assert request.to_params()['driver_options'] == {'o': 'password=hunter2'}
    request, problems = volume_request('remote', 'vieux/sshfs:latest')
    assert not problems and request.driver == 'vieux/sshfs:latest'


def test_prune_takes_unused_anonymous_volumes_unless_all_is_chosen_and_never_berths_own() -> None:
    used_anonymous, unused_anonymous = 'b' * 64, 'c' * 64
    volumes = [
        VolumeRow(name=unused_anonymous),
        VolumeRow(name=used_anonymous),
        VolumeRow(name='named-unused'),
        VolumeRow(name='named-used'),
        VolumeRow(name='berth-data', labels={'berth.protected': 'true'}),
        VolumeRow(name='d' * 64, labels={'berth.protected': 'yes'}),
    ]
    in_use = {used_anonymous, 'named-used'}
    assert [row.name for row in prune_candidates(volumes, in_use, anonymous_only=True)] == [unused_anonymous]
    assert [row.name for row in prune_candidates(volumes, in_use, anonymous_only=False)] == [
        unused_anonymous,
        'named-unused',
    ]


def test_volume_sizes_leave_out_what_the_engine_did_not_measure() -> None:
    disk_usage = {
        'Volumes': [
            {'Name': 'a', 'UsageData': {'Size': 12_000_000, 'RefCount': 0}},
            {'Name': 'b', 'UsageData': {'Size': -1, 'RefCount': -1}},
            {'Name': 'c'},
            {'Name': 'd', 'UsageData': {'Size': 0}},
        ]
    }
    assert volume_sizes(disk_usage) == {'a': 12_000_000, 'd': 0}
    assert volume_sizes({'Volumes': None}) == {}


async def test_disk_usage_is_asked_once_for_every_page_and_again_only_when_old_or_asked_fresh() -> None:
    now = [100.0]
    calls: list[int] = []
    release = asyncio.Event()

    async def read() -> dict:
        calls.append(1)
        await release.wait()
        return {'answer': len(calls)}

    cache = DiskUsageCache(read, reuse_seconds=5, clock=lambda: now[0])
    # two pages at once: one request
    first, second = asyncio.ensure_future(cache.get()), asyncio.ensure_future(cache.get())
    await asyncio.sleep(0)
    release.set()
    assert await first == await second == {'answer': 1} and len(calls) == 1
    # within a few seconds: the same answer, no request
    now[0] += 4
    assert await cache.get() == {'answer': 1} and len(calls) == 1
    # "Refresh sizes": a new request
    assert await cache.get(fresh=True) == {'answer': 2}
    # later: a new request
    now[0] += 6
    assert await cache.get() == {'answer': 3} and cache.known == {'answer': 3}


async def test_a_failed_disk_usage_is_not_kept() -> None:
    answers: list[object] = [RuntimeError('engine away'), {'Volumes': []}]

    async def read() -> dict:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[return-value]

    cache = DiskUsageCache(read)
    with pytest.raises(RuntimeError, match='engine away'):
        await cache.get()
    assert await cache.get() == {'Volumes': []}
