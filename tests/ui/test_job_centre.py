"""The job centre under a burst of job updates (NiceGUI's simulated user, main.py wired for real)."""

from __future__ import annotations

import asyncio
import re

from nicegui import Client
from nicegui.testing import User

from core.jobs.store import JobStatus, JobUpdate
from pages.jobs import RENDER_SECONDS, JobTable

from .test_pages import sign_in


async def test_a_burst_of_job_updates_renders_the_job_centre_once_not_once_per_update(user: User) -> None:
    # Given the job centre open, with its table's sends counted
    await sign_in(user, to='/jobs')
    table = next(iter(user.find(JobTable).elements))
    assert isinstance(table, JobTable)
    sends = counted_sends(table)
    # When a hundred job updates arrive at once (a burst of jobs: queued, running, succeeded each)
    for index in range(100):
        table.on_job(None, JobUpdate(job_id=f'bld-{index}', status=JobStatus.RUNNING))
    table.on_job(None, JobUpdate(job_id='bld-beat', status=JobStatus.HEARTBEAT))
    await asyncio.sleep(RENDER_SECONDS * 3)
    # Then the table is sent once for all of them, not once per update
    assert len(sends) == 1
    # And an update after a quiet spell is shown at once again (the next loop turn)
    await asyncio.sleep(RENDER_SECONDS)
    table.on_job(None, JobUpdate(job_id='bld-late', status=JobStatus.SUCCEEDED))
    await asyncio.sleep(0.05)
    assert len(sends) == 2


async def test_a_job_centre_whose_socket_has_not_connected_renders_only_once_it_connects(user: User) -> None:
    # Given the job centre fetched by a signed-in browser whose socket has not connected (yet, or ever: a script's
    # GET, a link preview; NiceGUI keeps such a page for a minute)
    await sign_in(user)
    response = await user.http_client.get('/jobs')
    found = re.search(r"'client_id': '([0-9a-f-]+)'", response.text)
    assert found is not None
    client = Client.instances[found.group(1)]
    table = next(element for element in client.elements.values() if isinstance(element, JobTable))
    sends = counted_sends(table)
    # When job updates arrive
    for index in range(20):
        table.on_job(None, JobUpdate(job_id=f'unseen-{index}', status=JobStatus.RUNNING))
    await asyncio.sleep(RENDER_SECONDS * 2)
    # Then nothing is rendered for a page nobody sees
    assert sends == []
    # When its socket connects
    await client.handle_handshake('socket-of-test', 'tab-of-test', None, 'document-of-test', None)
    await asyncio.sleep(0.05)
    # Then it renders once, with what it missed
    assert len(sends) == 1


def counted_sends(table: JobTable) -> list[float]:
    """The loop times at which ``table`` is sent to the browser from now on."""
    sends: list[float] = []
    send = table.update

    def counted() -> None:
        sends.append(asyncio.get_running_loop().time())
        send()

    table.update = counted  # type: ignore[method-assign]
    return sends
