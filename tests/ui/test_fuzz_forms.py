"""Real page forms, through NiceGUI's simulated user, given hostile strings in every text field: the create-and-run
form, the new-volume and the new-network dialogs answer with sentences (under a field, in an alert or a notification),
create nothing, and log no error (the `user` fixture fails a test on any ERROR log: a handler's traceback).

Lone surrogates are not among them: NiceGUI's socket decodes messages with orjson, which refuses them, so a browser
cannot deliver one to a handler (the parsers are fuzzed with them in tests/fuzz)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator

import pytest
from nicegui import ui
from nicegui.testing import User

from tests.support import BUSYBOX
from tests.support.eventually import eventually

from .test_pages import sign_in

HOSTILE = (
    '\x00',
    '9' * 5000,
    '../../../etc/passwd',
    'a\nb\r\nc=d\u2028e',
    '<script>alert(1)</script>',
    '1e400',
    '-1',
    'sh -c "unclosed',
    '[::1]:99999:80/tcp',
    '¹²³:٣/²',
    'İ' * 300 + '=x',
    '\x1b[31m' + '\u202e',
)
PREFIX = 'bfz-'


@pytest.fixture
def leftovers() -> Iterator[None]:
    """Nothing named with this test's prefix may be created; anything that was is removed and fails the test."""
    yield
    found = {}
    for kind in ('container', 'volume', 'network'):
        listed = subprocess.run(
            ['docker', kind, 'ls', '-q' if kind == 'container' else '--quiet', '--filter', f'name={PREFIX}']
            + (['-a'] if kind == 'container' else []),
            capture_output=True,
            text=True,
        ).stdout.split()
        for item in listed:
            subprocess.run(['docker', kind, 'rm', '-f', item] if kind != 'network' else ['docker', kind, 'rm', item])
        found[kind] = listed
    assert found == {'container': [], 'volume': [], 'network': []}


def field(user: User, kind: type, label: str) -> ui.input:
    return next(element for element in user.find(kind=kind).elements if element.props.get('label') == label)  # type: ignore[return-value]


def sentences(user: User) -> list[str]:
    """What the page says is wrong: field errors, visible alerts, notifications."""
    said = [
        str(element.error)
        for kind in (ui.input, ui.textarea)
        for element in user.find(kind=kind).elements
        if getattr(element, 'error', None)
    ]
    said += [
        element.text
        for element in user.find(kind=ui.label).elements
        if element.props.get('role') == 'alert' and element.visible and element.text  # type: ignore[attr-defined]
    ]
    return said + list(user.notify.messages)


async def test_create_form_answers_hostile_fields_with_sentences(user: User, leftovers: None) -> None:
    await sign_in(user)
    await user.open(f'/containers/new?image={BUSYBOX}')
    await user.should_see('Published ports ([ip:]host:container[/proto])')
    fields = [*user.find(kind=ui.input).elements, *user.find(kind=ui.textarea).elements]
    for text in HOSTILE:
        user.notify.messages.clear()
        for field in fields:
            field.value = text  # type: ignore[attr-defined]
        user.find(kind=ui.button, content='Create').click()
        await user.should_see('Some fields need correcting (see the messages under them).')
        assert len(sentences(user)) > 1, text[:40]


async def test_new_volume_dialog_answers_hostile_fields_with_sentences(user: User, leftovers: None) -> None:
    await sign_in(user)
    await user.open('/volumes')
    user.find(kind=ui.button, content='New volume').click()
    await user.should_see('Driver options')
    for text in HOSTILE:
        # a hostile name is refused as typed; a good name with hostile labels, options and driver when Create is pressed
        for name in (text, f'{PREFIX}vol-{uuid.uuid4().hex[:6]}'):
            user.notify.messages.clear()
            field(user, ui.input, 'Name').value = name
            field(user, ui.input, 'Driver').value = text
            field(user, ui.textarea, 'Labels').value = text
            field(user, ui.textarea, 'Driver options').value = text
            user.find(kind=ui.button, content='Create').click()
            await eventually(lambda: sentences(user), what=f'a sentence for {name[:40]!r} / {text[:40]!r}')
            await user.should_see('New volume')  # the dialog stays open


async def test_new_network_dialog_answers_hostile_fields_with_sentences(user: User, leftovers: None) -> None:
    await sign_in(user)
    await user.open('/networks')
    user.find(kind=ui.button, content='New network').click()
    await user.should_see('New bridge network')
    inputs = list(user.find(kind=ui.input).elements)
    for text in HOSTILE:
        for element in inputs:
            element.value = text  # type: ignore[attr-defined]
        field(user, ui.input, 'Name').value = f'{PREFIX}net-{uuid.uuid4().hex[:6]}'
        field(user, ui.textarea, 'Labels').value = text
        user.find(marker='create-network').click()
        await eventually(lambda: sentences(user), what=f'a sentence for {text[:40]!r}')
        await user.should_see('New bridge network')  # the dialog stays open
