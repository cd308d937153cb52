"""End-to-end fixtures: Berth as a real subprocess on a free port, real Docker Engine, headless Chromium."""
from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator

import pytest
from playwright.async_api import Browser, async_playwright

from bench.common import Panel, launch_chromium

PANEL_LOG_TAIL = 30_000
_running: list[Panel] = []


@pytest.fixture(scope='session')
def panel() -> Iterator[Panel]:
    """``python main.py`` with a temp data dir and the embedded broker, healthy (watcher synced) before tests run."""
    started = Panel().start(timeout=30)  # raises with the panel's log if it exits or never gets healthy
    _running.append(started)
    try:
        yield started
    finally:
        _running.remove(started)
        started.stop()  # SIGTERM, SIGKILL after 10 s


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await launch_chromium(playwright)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport,
                                                                                             pytest.TestReport]:
    """Attaches the panel's log to every failed test report (shown under 'Berth panel log')."""
    report = yield
    if report.failed:
        for running in _running:
            report.sections.append(('Berth panel log', running.log()[-PANEL_LOG_TAIL:]))
    return report
