"""End-to-end fixtures: Berth as a real subprocess on a free port, real Docker Engine, headless Chromium."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Generator, Iterator

import pytest
from playwright.async_api import Browser, async_playwright

from tests.support import BUSYBOX
from tests.support.browser import launch_chromium
from tests.support.counting_proxy import CountingProxy
from tests.support.panel import Panel

PANEL_LOG_TAIL = 30_000
TICKER = 'i=0; while true; do echo "tick $i <img src=x onerror=alert(1)>"; i=$((i+1)); sleep 0.1; done'
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


@pytest.fixture(scope='module')
def proxied_panel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Panel, CountingProxy]]:
    """A panel whose Docker connections pass a proxy that counts the open log streams (one per test module)."""
    proxy = CountingProxy(tmp_path_factory.mktemp('proxy') / 'docker.sock', only='/logs?')
    panel = Panel(env={'DOCKER_HOST': proxy.url}).start(timeout=30)
    yield panel, proxy
    panel.stop()
    proxy.close()


@pytest.fixture
def script_container() -> Iterator[Callable[[str], str]]:
    """Starts busybox containers running a shell script; removes them afterwards."""
    names: list[str] = []

    def start(script: str) -> str:
        names.append(f'berth-e2e-{uuid.uuid4().hex[:8]}')
        subprocess.run(
            ['docker', 'run', '-d', '--name', names[-1], '--label', 'berth-test=1', BUSYBOX, 'sh', '-c', script],
            check=True,
            capture_output=True,
        )
        return names[-1]

    yield start
    for name in names:
        subprocess.run(['docker', 'rm', '-f', name], capture_output=True, check=False)


@pytest.fixture
def ticker(script_container: Callable[[str], str]) -> str:
    """A container printing a numbered line (with an HTML injection attempt) ten times a second."""
    return script_container(TICKER)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await launch_chromium(playwright)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attaches the panel's log to every failed test report (shown under 'Berth panel log')."""
    report = yield
    if report.failed:
        for running in _running:
            report.sections.append(('Berth panel log', running.log()[-PANEL_LOG_TAIL:]))
    return report
