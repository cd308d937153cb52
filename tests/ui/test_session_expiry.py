"""An expired session's open pages are closed on the server, without anybody clicking anything."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from nicegui.testing import User

from tests.support.eventually import eventually

from .test_pages import sign_in


@pytest.fixture
def idle_after_six_seconds(ui_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('BERTH_SESSION_IDLE_MINUTES', '0.1')


async def test_an_idle_sessions_open_page_is_closed(idle_after_six_seconds: None, user: User) -> None:
    # Given a signed-in page that nobody uses
    await sign_in(user)
    assert user.client is not None
    page, signed_in = user.client, time.monotonic()
    # When the session has been idle for longer than allowed
    # Then the page is closed by the server, soon after the session expired
    await eventually(lambda: page.is_deleted, 20, 'the page closed by the server', interval=0.25)
    assert time.monotonic() - signed_in >= 6
