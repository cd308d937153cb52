"""The container page's Stats tab through NiceGUI's simulated user: figures and charts of a busy container, followed
only while the tab is shown."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from nicegui import ui
from nicegui.testing import User

from components.stats_view import LIVE, StatsView
from tests.support.busy import busy_container
from tests.support.eventually import eventually

from .test_pages import rows_of, sign_in


@pytest.fixture
def busy() -> Iterator[str]:
    with busy_container(f'bt-stats-ui-{uuid.uuid4().hex[:8]}') as name:
        yield name


def figure(user: User, marker: str) -> str:
    return str(next(iter(user.find(marker=marker).elements)).text)  # type: ignore[attr-defined]


async def test_the_stats_tab_shows_live_figures_only_while_it_is_shown(user: User, busy: str) -> None:
    await sign_in(user)
    await rows_of(user, lambda rows: any(row['name'] == busy and row['state'] == 'running' for row in rows))
    await user.open(f'/containers/{busy}')
    view = next(iter(user.find(StatsView).elements))
    assert isinstance(view, StatsView)
    hub = view.services.stats
    # Given the page is open on another tab, nothing follows the container's stats
    assert not view.subscribed and hub.subscribers(view.endpoint, view.container_id) == 0

    # When the Stats tab is shown
    user.find(kind=ui.tab, content='Stats').click()
    # Then the figures come, with the CPU busy, and the charts fill
    await user.should_see(LIVE, retries=100)
    await eventually(lambda: re.fullmatch(r'CPU \d+\.\d %', figure(user, 'stats-cpu')), what='a CPU figure')
    await eventually(lambda: float(figure(user, 'stats-cpu').split()[1]) > 0, 20, 'the CPU busy')
    assert re.fullmatch(r'Memory [\d.]+ (B|KiB|MiB|GiB) of [\d.]+ (MiB|GiB) \([\d.]+ %\)', figure(user, 'stats-memory'))
    assert re.fullmatch(r'Processes \d+', figure(user, 'stats-processes'))
    assert figure(user, 'stats-network').startswith('Network in ')
    assert figure(user, 'stats-block').startswith('Block I/O read ')
    assert view.cpu_chart.data[0] and hub.subscribers(view.endpoint, view.container_id) == 1

    # When another tab is shown, the view stops following (the shared stream lingers for others)
    user.find(kind=ui.tab, content='Overview').click()
    assert not view.subscribed and hub.subscribers(view.endpoint, view.container_id) == 0
    # And showing Stats again follows again, the past minutes drawn at once
    user.find(kind=ui.tab, content='Stats').click()
    assert view.subscribed and view.cpu_chart.data[0]
