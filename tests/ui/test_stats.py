"""The container page's Stats tab through NiceGUI's simulated user: figures and charts of a busy container, followed
only while the tab is shown."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from nicegui import ui
from nicegui.testing import User

from components.stats_view import LIVE, StatsView
from tests.support.busy import busy_container
from tests.support.eventually import eventually

from .test_pages import rows_of, sign_in

PUSH = 'berthStatsPush('


@pytest.fixture
def busy() -> Iterator[str]:
    with busy_container(f'bt-stats-ui-{uuid.uuid4().hex[:8]}') as name:
        yield name


def figure(user: User, marker: str) -> str:
    return str(next(iter(user.find(marker=marker).elements)).text)  # type: ignore[attr-defined]


class Sent:
    """What the page is sent from now on: the charts' new points (``berthStatsPush`` calls) and whole element updates
    (by element id)."""

    def __init__(self, user: User, monkeypatch: pytest.MonkeyPatch) -> None:
        assert user.client is not None
        outbox = user.client.outbox
        self.pushes: list[list[Any]] = []
        self.updates: list[int] = []
        enqueue_message, enqueue_update = outbox.enqueue_message, outbox.enqueue_update

        def message(message_type: str, data: Any, target_id: str) -> None:
            code = data.get('code', '') if message_type == 'run_javascript' else ''
            if code.startswith(PUSH):
                self.pushes.append(json.loads(code[len(PUSH) : -1]))
            enqueue_message(message_type, data, target_id)

        def update(element: ui.element) -> None:
            self.updates.append(element.id)
            enqueue_update(element)

        monkeypatch.setattr(outbox, 'enqueue_message', message)
        monkeypatch.setattr(outbox, 'enqueue_update', update)

    def points(self, chart_id: int) -> list[list[Any]]:
        """The points pushed to the chart's first series, push by push."""
        return [points[0] for push in self.pushes for pushed_id, points, _, _ in push if pushed_id == chart_id]


async def test_the_stats_tab_shows_live_figures_only_while_it_is_shown(
    user: User, busy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in(user, to='/containers')
    await rows_of(user, lambda rows: any(row['name'] == busy and row['state'] == 'running' for row in rows))
    await user.open(f'/containers/{busy}')
    view = next(iter(user.find(StatsView).elements))
    assert isinstance(view, StatsView)
    hub = view.services.stats
    # Given the page is open on another tab, nothing follows the container's stats
    assert not view.subscribed and hub.subscribers(view.endpoint, view.container_id) == 0

    sent = Sent(user, monkeypatch)

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
    # And after the history, each redraw sends the CPU chart its new points alone, never the whole chart again
    await eventually(lambda: sent.points(view.cpu_chart.id), 20, 'new points pushed')
    whole = sent.updates.count(view.cpu_chart.id)
    pushed = len(sent.points(view.cpu_chart.id))
    await eventually(lambda: len(sent.points(view.cpu_chart.id)) >= pushed + 2, 20, 'two more pushes')
    assert sent.updates.count(view.cpu_chart.id) == whole
    assert all(1 <= len(points) <= 3 for points in sent.points(view.cpu_chart.id))

    # When another tab is shown, the view stops following (the shared stream lingers for others)
    user.find(kind=ui.tab, content='Overview').click()
    assert not view.subscribed and hub.subscribers(view.endpoint, view.container_id) == 0
    pushes = len(sent.pushes)
    await asyncio.sleep(2.5)
    assert len(sent.pushes) == pushes
    # And showing Stats again follows again, the past minutes drawn at once
    user.find(kind=ui.tab, content='Stats').click()
    assert view.subscribed and view.cpu_chart.data[0]


async def test_a_link_with_tab_stats_opens_the_stats_tab_following(user: User, busy: str) -> None:
    await sign_in(user, to='/containers')
    await rows_of(user, lambda rows: any(row['name'] == busy and row['state'] == 'running' for row in rows))
    # When the container page is opened from a link to its stats (the stack page's services link so)
    await user.open(f'/containers/{busy}?tab=stats')
    view = next(iter(user.find(StatsView).elements))
    assert isinstance(view, StatsView)
    # Then the Stats tab is the one shown, and it follows the container
    assert view.subscribed
    await user.should_see(LIVE, retries=100)
