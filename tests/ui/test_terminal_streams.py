"""What one person's terminals may cost the panel, through the pages against the real engine: a cap on open terminals
per user (refused with a sentence, audited, the slot given back when a terminal closes or its session ends), and a
browser that stops taking output pauses its terminal instead of piling output up in the panel."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest
from nicegui import events, ui
from nicegui.testing import User

import components.terminal_output
from components.terminal_output import PAUSED, WINDOW
from tests.support.eventually import eventually

from .test_terminal_access import WRITE, processes, refusals, sign_in_as_operator

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
            events.handle_event(
                listener.handler, events.GenericEventArguments(sender=button, client=button.client, args=None)
            )


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


async def test_a_session_that_ends_gives_its_slot_back(
    user: User, make_container: MakeContainer, data_dir: Path
) -> None:
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


class Browser:
    """The page's side of a terminal's writes, in place of a regular expression in ``user.javascript_rules``: it
    matches, and so answers as xterm does once it has parsed a write, only while ``answering``; notices are written
    without waiting for an answer, so it only notes those."""

    def __init__(self) -> None:
        self.answering = True
        self.received = 0
        self.notices: list[str] = []

    def match(self, code: str) -> bool:
        if not code.startswith('berthTerminal.write('):
            return False
        self.received += len(code)
        if not WRITE.match(code):
            self.notices.append(code)
            return False
        return self.answering


async def test_a_browser_that_stops_taking_output_pauses_its_terminal(
    user: User, make_container: MakeContainer, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(components.terminal_output, 'STALL_SECONDS', 1.0)
    monkeypatch.setattr(components.terminal_output, 'PROBE_SECONDS', (0.2, 0.4))
    # Given a terminal flooded with output, in a browser that takes it
    name = make_container()
    await sign_in_as_operator(user, data_dir, writes=False)
    browser = Browser()
    user.javascript_rules[cast(re.Pattern[str], browser)] = lambda _: True
    await user.open(f'/containers/{name}/terminal')
    user.find(kind=ui.input, content='Command').type('yes flood')
    new_terminal(user)
    await eventually(lambda: browser.received > 4 * WINDOW, what='output flowing')
    # When the browser stops answering
    browser.answering = False
    # Then the terminal says so, and nothing but small probes reaches the browser while the container wants to print
    await user.should_see(PAUSED, retries=100)
    await asyncio.sleep(0.5)
    received = browser.received
    await asyncio.sleep(2.0)
    assert browser.received - received < 1000
    assert 'yes flood' in processes(name)
    # When the browser answers again, the terminal says output was skipped, and output flows again
    browser.answering = True
    await user.should_see(f'yes flood in {name}', retries=100)
    assert any('[output skipped]' in notice for notice in browser.notices)
    await eventually(lambda: browser.received > received + 4 * WINDOW, what='output flowing again')
