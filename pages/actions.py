"""What a page does when a user asks for a container action: confirm, dispatch, say what happened."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

from components.confirm import RemoveDialog
from core.errors import CommandError
from core.permissions import Forbidden

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services


async def run_container_actions(services: Services, action: str, container_ids: list[str]) -> None:
    """Authorizes and queues ``action`` on each container; refusals and errors become a notification."""
    identity = services.sessions.current()
    rows = [
        services.state.containers[container_id]
        for container_id in container_ids
        if container_id in services.state.containers
    ]
    if not rows:
        ui.notify('Those containers no longer exist.', type='warning')
        return
    params: dict[str, object] = {}
    if action == 'remove':
        answer = await RemoveDialog([row.name for row in rows]).ask()
        if answer is None:
            return
        params = answer
    for row in rows:
        try:
            await services.commands.container_action(identity, action, row.id, params)
        except (Forbidden, CommandError) as error:
            ui.notify(f'{str(error)[:1].upper()}{str(error)[1:]}.', type='negative')
            return
