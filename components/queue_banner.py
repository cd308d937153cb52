"""The banner that says the job queue (Redis) cannot be reached, in every signed-in page while it cannot."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

from core.jobs.queue_status import QueueStatus

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services


class QueueBanner(ui.label):
    """Hidden while the panel hears the job queue; the status's sentence (role=alert) while it does not."""

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.classes('w-full bg-warning text-black q-pa-sm text-center').props('role=alert')
        self.show(services.bus.status)
        unsubscribe = services.bus.status.subscribe(self.show)
        ui.context.client.on_delete(unsubscribe)

    def show(self, status: QueueStatus) -> None:
        self.text = status.message if not status.reachable else ''
        self.set_visibility(not status.reachable)
