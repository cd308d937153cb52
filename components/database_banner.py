"""The banner that says the database takes no writes (a full disk, a restart), in every signed-in page while it does
not: jobs and audit entries wait in memory meanwhile (core/storage/writer.py)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from nicegui import ui

from core.handover import hand_over

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services


def sentence(reason: str) -> str:
    return (
        f'Berth cannot write to its database ({reason}): jobs and audit entries wait in memory and are written as soon '
        'as it can; other changes are refused until then.'
    )


class DatabaseBanner(ui.label):
    """Hidden while the database takes writes; the sentence (role=alert) while it does not."""

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.classes('w-full bg-warning text-black q-pa-sm text-center').props('role=alert')
        writer = services.database.writer
        self.show(writer.failing)
        loop = asyncio.get_running_loop()

        def told(reason: str | None) -> None:  # in the writer's thread
            hand_over(loop, self.show, reason)

        ui.context.client.on_delete(writer.subscribe(told))

    def show(self, reason: str | None) -> None:
        self.text = sentence(reason) if reason else ''
        self.set_visibility(bool(reason))
