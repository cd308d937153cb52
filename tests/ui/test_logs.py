"""The log view through NiceGUI's simulated user: the per-user cap on open views, and a browser that falls behind.

The simulated browser runs no JavaScript: the test says when the line area is shown (its 'ready' event) and whether
the browser answers the pushes (``user.javascript_rules``).
"""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User

from components.log_lines import WINDOW, LogLines
from tests.support import BUSYBOX
from tests.support.eventually import eventually

from .test_pages import sign_in

# about 1.1 MB of text a second: 50 lines of 1 092 characters every 50 ms
CHATTY = 'while true; do for i in $(seq 1 50); do seq -s " " 1 300; done; sleep 0.05; done'
PAUSED = 'Paused: your browser is not keeping up;'


@pytest.fixture
def chatty() -> Iterator[str]:
    name = f'berth-ui-logs-{uuid.uuid4().hex[:8]}'
    subprocess.run(
        [
            'docker',
            'run',
            '-d',
            '--name',
            name,
            '--label',
            'berth-test=1',
            '--log-opt',
            'max-size=5m',
            BUSYBOX,
            'sh',
            '-c',
            CHATTY,
        ],
        check=True,
        capture_output=True,
    )
    yield name
    subprocess.run(['docker', 'rm', '-f', name], capture_output=True, check=False)


@pytest.fixture
def one_log_view(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Requested before the ``user`` fixture, so main.py reads it."""
    monkeypatch.setenv('BERTH_LOG_VIEWS_PER_USER', '1')


async def open_logs(user: User, name: str) -> LogLines:
    """Opens the container's log page and shows its line area; returns that area."""
    for _ in range(50):
        await user.open(f'/containers/{name}/logs')
        if user.find(LogLines).elements:
            break
    area = user.find(LogLines)
    area.trigger('ready')
    return next(iter(area.elements))


async def test_open_log_views_are_capped_per_user_and_slots_come_back(
    one_log_view: None, user: User, create_user: Callable[[], User], make_container: Callable[..., str]
) -> None:
    name = make_container()
    await sign_in(user)
    await open_logs(user, name)
    await user.should_see(f'Following {name}')
    # Reloading replaces the stream and keeps the one slot
    for _ in range(3):
        user.find('Reload').click()
    await user.should_see(f'Following {name}')
    await user.should_not_see('Not following:')

    # When the same person opens a second view (another tab)
    second = create_user()
    await sign_in(second)
    await open_logs(second, name)
    # Then it opens nothing and says why
    await second.should_see(
        'Not following: admin has 1 log views open already, the most one person may have: close one first.'
    )
    await second.should_see(f'Not following {name}')

    # When the first tab is closed, its slot comes back and the second view can follow
    assert user.client is not None
    user.client.delete()
    second.find('Resume following').click()
    await second.should_see(f'Following {name}')
    await second.should_not_see('Not following:')


async def test_a_browser_that_stops_answering_gets_nothing_more_until_it_answers_again(user: User, chatty: str) -> None:
    await sign_in(user)
    # Given a browser that does not answer the pushes (as one that hangs, or a client that never reads)
    area = await open_logs(user, chatty)
    # Then once a window's worth is unanswered, the panel stops sending and says so
    await user.should_see(PAUSED, retries=150)
    sent = area.sent
    assert sent - area.acknowledged <= 2 * WINDOW
    first = await skipped(user)
    await eventually(lambda: skipped_now(user) > first + 200, what='more lines skipped')
    assert area.sent == sent  # lines keep coming from the container; none of them go out

    # When the browser answers again, sending resumes (the missed lines still held are caught up)
    user.javascript_rules[re.compile(r'return runMethod\(\d+, "acknowledge"')] = lambda _: True
    await user.should_not_see(PAUSED, retries=150)
    await eventually(lambda: area.sent > sent, what='the missed lines sent')
    resumed = area.sent
    await eventually(lambda: area.sent > resumed, what='live lines sent again')


def skipped_now(user: User) -> int:
    texts = [label.text for label in user.find(ui.label).elements if label.text.startswith(PAUSED)]
    match = re.search(r'([\d,]+) lines skipped', texts[0]) if texts and texts[0] else None
    return int(match.group(1).replace(',', '')) if match else 0


async def skipped(user: User) -> int:
    await eventually(lambda: skipped_now(user) > 0, what='a count of skipped lines')
    return skipped_now(user)
