"""An expired session's open pages are closed on the server, without anybody clicking anything."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from nicegui.testing import User

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
    while not page.is_deleted and time.monotonic() - signed_in < 20:
        await asyncio.sleep(0.25)
    # Then the page was closed by the server, soon after the session expired
    assert page.is_deleted
    assert time.monotonic() - signed_in >= 6
