"""The log view through NiceGUI's simulated user: the per-user cap on open views.

The simulated browser runs no JavaScript: the test says when the line area is shown (its 'ready' event).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from nicegui.testing import User

from components.log_lines import LogLines

from .test_pages import sign_in


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


async def test_open_log_views_are_capped_per_user_and_slots_come_back(one_log_view: None, user: User,
                                                                      create_user: Callable[[], User],
                                                                      make_container: Callable[..., str]) -> None:
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
    await second.should_see('Not following: admin has 1 log views open already, the most one person may have: '
                            'close one first.')
    await second.should_see(f'Not following {name}')

    # When the first tab is closed, its slot comes back and the second view can follow
    assert user.client is not None
    user.client.delete()
    second.find('Resume following').click()
    await second.should_see(f'Following {name}')
    await second.should_not_see('Not following:')
