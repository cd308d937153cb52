"""Image references, image rows, prune candidates and pull progress, as pure functions."""

from __future__ import annotations

import pytest

from core.docker.reference import InvalidReference, parse_reference
from core.operations.pull import PullFailed, PullTracker
from core.state.images import ImageRow, format_size, prune_candidates


@pytest.mark.parametrize(
    ('text', 'expected', 'registry_key', 'pull_tag'),
    [
        ('nginx', 'nginx:latest', 'docker.io', 'latest'),
        ('  nginx:1.27  ', 'nginx:1.27', 'docker.io', '1.27'),
        ('library/nginx:1.27-alpine', 'library/nginx:1.27-alpine', 'docker.io', '1.27-alpine'),
        ('127.0.0.1:5000/team/app:2', '127.0.0.1:5000/team/app:2', '127.0.0.1:5000', '2'),
        ('localhost/app', 'localhost/app:latest', 'localhost', 'latest'),
        ('registry.example.com/a/b/c:v1.0_rc', 'registry.example.com/a/b/c:v1.0_rc', 'registry.example.com', 'v1.0_rc'),
        ('[::1]:5000/app:1', '[::1]:5000/app:1', '[::1]:5000', '1'),
        ('my_app__x-y.z', 'my_app__x-y.z:latest', 'docker.io', 'latest'),
        (f'busybox@sha256:{"a" * 64}', f'busybox@sha256:{"a" * 64}', 'docker.io', f'sha256:{"a" * 64}'),
    ],
)
def test_valid_references(text: str, expected: str, registry_key: str, pull_tag: str) -> None:
    reference = parse_reference(text)
    assert (str(reference), reference.registry_key, reference.pull_tag) == (expected, registry_key, pull_tag)


@pytest.mark.parametrize(
    ('text', 'reason'),
    [
        ('ngin x', "image reference 'ngin x' is not valid: spaces are not allowed"),
        ('', 'enter an image reference'),
        ('Nginx', 'the repository name must be lowercase'),
        ('UPPER/case', "'UPPER' has capital letters: repository names must be lowercase"),
        ('nginx:', 'the tag after the colon is empty'),
        ('nginx:-x', "the tag '-x' may only contain letters"),
        (f'nginx:{"a" * 129}', 'has at most 128 characters'),
        ('a//b', 'a part of the name is empty'),
        ('team/', 'a part of the name is empty'),
        ('-app', "'-app' may only contain lowercase letters"),
        ('app___x', "'app___x' may only contain lowercase letters"),
        ('https://registry.example.com/app', 'leave out the scheme'),
        ('127.0.0.1:70000/app', 'the port in'),
        ('bad_host.example/app', "'bad_host.example' is not a valid registry address"),
        ('busybox@sha256:abc', 'must look like sha256:'),
        ('a' * 64, 'is an image id, not a repository name'),
        ('x/' + 'a' * 260, 'longer than 255 characters'),
    ],
)
def test_invalid_references_say_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(InvalidReference) as error:
        parse_reference(text)
    assert reason in str(error.value)
    assert 'Traceback' not in str(error.value)


def test_a_digest_is_refused_where_a_tag_is_needed() -> None:
    with pytest.raises(InvalidReference, match='a digest'):
        parse_reference(f'app@sha256:{"b" * 64}', allow_digest=False)


def test_rows_from_list_and_inspect_agree() -> None:
    summary = {
        'Id': 'sha256:' + 'c' * 64,
        'RepoTags': ['b:1', 'a:2'],
        'RepoDigests': [],
        'Size': 2_000_000,
        'Created': 1_700_000_000,
        'Labels': {'x': '<b>y</b>'},
    }
    inspect = {
        'Id': 'sha256:' + 'c' * 64,
        'RepoTags': ['a:2', 'b:1'],
        'Size': 2_000_000,
        'Created': '2023-11-14T22:13:20.000000000Z',
        'Config': {'Labels': {'x': '<b>y</b>'}},
    }
    from_list, from_inspect = ImageRow.from_summary(summary), ImageRow.from_inspect(inspect)
    assert from_list == from_inspect
    assert (from_list.title, from_list.short_id, from_list.dangling) == ('a:2', 'c' * 12, False)
    dangling = ImageRow.from_summary({'Id': 'sha256:' + 'd' * 64, 'RepoTags': ['<none>:<none>'], 'Created': 0})
    assert dangling.dangling and dangling.title == f'<none> ({"d" * 12})'


def test_prune_candidates() -> None:
    used = ImageRow(id='used', tags=['app:1'], size=10)
    tagged = ImageRow(id='tagged', tags=['old:1'], size=30)
    dangling = ImageRow(id='dangling', size=20)
    dangling_in_use = ImageRow(id='dangling-in-use', size=40)
    images = [used, tagged, dangling, dangling_in_use]
    in_use = {'used', 'dangling-in-use'}
    assert [row.id for row in prune_candidates(images, in_use, unused=False)] == ['dangling']
    assert [row.id for row in prune_candidates(images, in_use, unused=True)] == ['tagged', 'dangling']


@pytest.mark.parametrize(
    ('size', 'text'),
    [(0, '0 B'), (999, '999 B'), (1_980_000, '1.98 MB'), (357_000_000, '357 MB'), (12_300_000_000, '12.3 GB')],
)
def test_format_size(size: int, text: str) -> None:
    assert format_size(size) == text


PULL = [
    {'status': 'Pulling from team/app', 'id': '2'},
    {'status': 'Already exists', 'progressDetail': {}, 'id': 'base'},
    {'status': 'Pulling fs layer', 'progressDetail': {}, 'id': 'one'},
    {'status': 'Pulling fs layer', 'progressDetail': {}, 'id': 'two'},
    {'status': 'Downloading', 'progressDetail': {'current': 500, 'total': 1000}, 'id': 'one'},
    {'status': 'Downloading', 'progressDetail': {'current': 1000, 'total': 1000}, 'id': 'one'},
    {'status': 'Download complete', 'progressDetail': {}, 'id': 'one'},
    {'status': 'Extracting', 'progressDetail': {'current': 500, 'total': 1000}, 'id': 'one'},
    {'status': 'Downloading', 'progressDetail': {'current': 3000, 'total': 3000}, 'id': 'two'},
    {'status': 'Pull complete', 'progressDetail': {}, 'id': 'one'},
    {'status': 'Download complete', 'progressDetail': {}, 'id': 'two'},
    {'status': 'Extracting', 'progressDetail': {'current': 3000, 'total': 3000}, 'id': 'two'},
    {'status': 'Pull complete', 'progressDetail': {}, 'id': 'two'},
    {'status': 'Digest: sha256:' + 'e' * 64},
    {'status': 'Status: Downloaded newer image for 127.0.0.1:5000/team/app:2'},
]


def test_pull_tracker_folds_layers_and_never_goes_backwards() -> None:
    tracker = PullTracker('127.0.0.1:5000/team/app:2')
    fractions = []
    for message in PULL:
        tracker.feed(message)
        fractions.append(tracker.fraction)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    layers = tracker.detail()['layers']
    assert [(layer['id'], layer['status']) for layer in layers] == [
        ('base', 'Already exists'),
        ('one', 'Pull complete'),
        ('two', 'Pull complete'),
    ]
    assert tracker.result == 'Downloaded newer image for 127.0.0.1:5000/team/app:2'
    assert tracker.summary() == '2 of 2 layers complete, 4 kB of 4 kB'
    output = tracker.take_output().splitlines()
    assert '2: Pulling from team/app' in output and 'one: Pull complete' in output
    assert sum(1 for line in output if line.startswith('one: Downloading')) == 1  # not one line per byte count
    assert tracker.take_output() == ''


def test_pull_tracker_midway_weights_layers_by_size() -> None:
    tracker = PullTracker('app')
    for message in PULL[:8]:  # 'one' (1000 bytes) half extracted, 'two' (size unknown yet) waiting
        tracker.feed(message)
    assert tracker.fraction == pytest.approx((0.75 * 1000 + 0 * 1000) / 2000)
    assert tracker.summary() == '0 of 2 layers complete, 1 kB of 1 kB'


def test_pull_tracker_raises_the_daemon_error() -> None:
    tracker = PullTracker('app')
    with pytest.raises(PullFailed, match='unauthorized: authentication required'):
        tracker.feed({'errorDetail': {'message': 'unauthorized: authentication required'}, 'error': 'x'})
