"""Comparing a registry's digest with the local image (core/updates/check.py): every repo digest counts, digest-pinned
and local-only images are skipped without asking the registry, references are spelled as the engine spells tags."""

from __future__ import annotations

from typing import Any

import pytest

from core.docker.reference import ImageReference, parse_reference
from core.state.containers import ContainerRow
from core.updates.check import (
    UpdateResult,
    UpdateStatus,
    check_reference,
    compare,
    reference_key,
    references_in_use,
)
from core.updates.registry import RegistryError

OLD, NEW, OTHER = ('sha256:' + letter * 64 for letter in 'abc')
APP = '127.0.0.1:5000/team/app'


def never_asked(reference: ImageReference) -> str:
    raise AssertionError(f'the registry was asked about {reference}')


def image(*repo_digests: str, image_id: str = 'sha256:' + 'f' * 64) -> dict[str, Any]:
    return {'Id': image_id, 'RepoDigests': list(repo_digests)}


def test_compare_with_every_local_repo_digest() -> None:
    app = parse_reference(f'{APP}:1')
    assert compare(app, OLD, [f'{APP}@{OLD}']) == UpdateStatus.CURRENT
    assert compare(app, NEW, [f'{APP}@{OLD}']) == UpdateStatus.AVAILABLE
    # pulled again after the tag moved twice: the image keeps one digest per manifest it was pulled as
    assert compare(app, NEW, [f'{APP}@{OLD}', f'{APP}@{NEW}']) == UpdateStatus.CURRENT
    # the same manifest pushed to another repository too: its digest counts as well
    assert compare(app, OTHER, [f'{APP}@{OLD}', f'127.0.0.1:5000/mirror/app@{OTHER}']) == UpdateStatus.CURRENT


def test_an_image_never_pulled_from_that_repository_is_local_not_an_update() -> None:
    app = parse_reference(f'{APP}:1')
    assert compare(app, NEW, []) == UpdateStatus.LOCAL
    assert compare(app, NEW, [f'busybox@{OLD}']) == UpdateStatus.LOCAL  # only tagged as app here, never pushed


def test_docker_hub_repo_digests_match_however_the_reference_is_written() -> None:
    assert compare(parse_reference('docker.io/library/busybox:1.36'), OLD, [f'busybox@{OLD}']) == UpdateStatus.CURRENT
    assert compare(parse_reference('busybox:1.36'), NEW, [f'busybox@{OLD}']) == UpdateStatus.AVAILABLE


def test_check_skips_pinned_and_local_only_images_without_asking_the_registry() -> None:
    pinned = check_reference(f'{APP}@{OLD}', lambda key: image(f'{APP}@{OLD}'), never_asked)
    assert pinned.status == UpdateStatus.PINNED
    local = check_reference('team/built-here:1', lambda key: image(), never_asked)
    assert local.status == UpdateStatus.LOCAL and local.image_id == 'sha256:' + 'f' * 64


def test_check_compares_what_the_registry_names_now() -> None:
    asked: list[str] = []

    def registry(reference: ImageReference) -> str:
        asked.append(str(reference))
        return NEW

    found = check_reference(f'{APP}:1', lambda key: image(f'{APP}@{OLD}'), registry)
    assert asked == [f'{APP}:1']
    assert (found.status, found.remote_digest, found.local_digests) == (UpdateStatus.AVAILABLE, NEW, [f'{APP}@{OLD}'])
    same = check_reference(f'{APP}:1', lambda key: image(f'{APP}@{NEW}'), registry)
    assert same.status == UpdateStatus.CURRENT


def test_a_registry_that_cannot_answer_gives_its_sentence_and_no_verdict() -> None:
    def registry(reference: ImageReference) -> str:
        raise RegistryError('the registry 127.0.0.1:5000 could not be reached: [Errno 111] Connection refused')

    found = check_reference(f'{APP}:1', lambda key: image(f'{APP}@{OLD}'), registry)
    assert found.status == UpdateStatus.UNKNOWN and 'could not be reached' in found.message
    gone = check_reference(f'{APP}:1', lambda key: None, never_asked)
    assert gone.status == UpdateStatus.UNKNOWN and gone.message == 'no image has this tag here any more'
    assert UpdateResult.from_dict(found.to_dict()) == found  # what travels from the worker to the panel


@pytest.mark.parametrize(
    ('text', 'key'),
    [
        ('busybox', 'busybox:latest'),
        ('docker.io/library/busybox:1.36', 'busybox:1.36'),
        ('index.docker.io/grafana/grafana', 'grafana/grafana:latest'),
        (f'{APP}:1', f'{APP}:1'),
        (f'{APP}@{OLD}', f'{APP}@{OLD}'),
        (OLD, None),  # created from an image id
        ('not a reference', None),
    ],
)
def test_reference_keys_are_spelled_as_the_engine_spells_tags(text: str, key: str | None) -> None:
    assert reference_key(text) == key


def test_references_in_use_are_the_containers_and_not_their_image_ids() -> None:
    image_id = 'sha256:be89889dc435' + '0' * 52
    rows = [
        ContainerRow(id='1', name='a', image='busybox', state='running', image_id=image_id),
        ContainerRow(id='2', name='b', image='docker.io/library/busybox:latest', state='exited', image_id=image_id),
        ContainerRow(id='3', name='c', image='be89889dc435', state='running', image_id=image_id),
        ContainerRow(id='4', name='d', image=f'{APP}:1', state='created', image_id=image_id),
        ContainerRow(id='5', name='e', image=f'{APP}:2', state='running', endpoint='elsewhere'),
    ]
    assert references_in_use(rows, 'local') == [f'{APP}:1', 'busybox:latest']
