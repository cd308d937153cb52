"""What one person's terminals may cost the panel, through the pages against the real engine: a cap on open terminals
per user (refused with a sentence, audited, the slot given back when a terminal closes or its session ends)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from nicegui import events, ui
from nicegui.testing import User

from ..integration.conftest import eventually
from .test_terminal_access import processes, refusals, sign_in_as_operator

MakeContainer = Callable[..., str]
LIMIT = 2
AT_THE_LIMIT = f'olga has {LIMIT} terminals open already, the most one person may have: close one first.'


@pytest.fixture(autouse=True)
def terminal_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Autouse, so the setting is in the environment before the `user` fixture runs main.py."""
    monkeypatch.setenv('BERTH_TERMINALS_PER_USER', str(LIMIT))


def new_terminal(user: User) -> None:
    user.find(kind=ui.button, content='New terminal').click()


def close_first_terminal(user: User) -> None:
    """Clicks the first tab's close button (it listens to 'click.stop', which the fixture's click() does not send)."""
    button = min(user.find(marker='close-terminal').elements, key=lambda element: element.id)
    for listener in list(button._event_listeners.values()):
        if listener.type.startswith('click'):
            events.handle_event(listener.handler, events.GenericEventArguments(sender=button, client=button.client,
                                                                               args=None))


async def eventually_processes(container: str, expected: list[str]) -> None:
    await eventually(lambda: processes(container) == expected, what=f'processes {expected}')


async def test_terminals_per_user_are_capped(user: User, make_container: MakeContainer, data_dir: Path) -> None:
    # Given an operator with as many terminals open as one person may have
    name = make_container()
    await sign_in_as_operator(user, data_dir)
    await user.open(f'/containers/{name}/terminal')
    new_terminal(user)
    await user.should_see(f'/bin/sh in {name}', retries=100)
    await eventually_processes(name, ['sleep 600', '/bin/sh', '/bin/sh'])
    # When they open one more
    new_terminal(user)
    # Then it is refused with a sentence, audited, and nothing more runs in the container
    await user.should_see(AT_THE_LIMIT, retries=100)
    assert refusals(data_dir, name) == [f'refused: {AT_THE_LIMIT[:-1]}']
    assert processes(name) == ['sleep 600', '/bin/sh', '/bin/sh']
    # When they close one, a new terminal opens
    close_first_terminal(user)
    await eventually_processes(name, ['sleep 600', '/bin/sh'])
    new_terminal(user)
    await eventually_processes(name, ['sleep 600', '/bin/sh', '/bin/sh'])


async def test_a_session_that_ends_gives_its_slot_back(user: User, make_container: MakeContainer,
                                                       data_dir: Path) -> None:
    name = make_container()
    await sign_in_as_operator(user, data_dir)
    await user.open(f'/containers/{name}/terminal')
    await user.should_see(f'/bin/sh in {name}', retries=100)
    user.find(kind=ui.input, content='Command').type('true')
    for opened in range(1, LIMIT + 2):  # more sessions than the limit, one after the other
        new_terminal(user)
        await eventually_ended(user, opened)
    await user.should_not_see(AT_THE_LIMIT)


async def eventually_ended(user: User, count: int) -> None:
    await eventually(lambda: len(ended_sessions(user)) == count, what=f'{count} sessions ended')


def ended_sessions(user: User) -> list[str]:
    labels = [str(label.text) for label in user.find(ui.label).elements]  # type: ignore[attr-defined]
    assert AT_THE_LIMIT not in labels
    return [text for text in labels if text == 'Session ended (exit code 0).']



