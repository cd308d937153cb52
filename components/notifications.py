"""A notification in every open, signed-in browser when a job ends."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import Client, ui

from core.commands.environments import SYSTEM
from core.container_actions import parse_action
from core.environments.environment import IDLE_STOP_KIND
from core.jobs.store import FINISHED, Job, JobStatus, JobUpdate
from core.permissions import Permission
from core.updates.check import KIND as UPDATE_CHECK_KIND

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services


class JobNotifier:
    """Subscribes to the job store; notifies each signed-in client once per finished job."""

    def __init__(self, services: Services) -> None:
        self.services = services
        services.jobs.subscribe(self.on_job)

    def on_job(self, job: Job, update: JobUpdate) -> None:
        if update.status not in FINISHED or job.status != update.status:
            return
        if job.kind == UPDATE_CHECK_KIND and job.requested_by == SYSTEM.username:
            return  # the schedule's checks: their answers show as badges, the job centre keeps them
        text = describe_job(job)
        for client_id in list(self.services.sessions.pages):
            client = Client.instances.get(client_id)
            if client is None or not client.has_socket_connection:
                continue
            identity = self.services.sessions.identity_of_page(client_id)
            if identity is None or not identity.can(Permission.JOB_READ, job.scope):
                continue  # a developer hears of the jobs on their own things only
            with client:
                ui.notify(
                    text,
                    type='positive' if job.status == JobStatus.SUCCEEDED else 'negative',
                    position='bottom-right',
                    timeout=8000,
                    close_button='Dismiss',
                    multi_line=True,
                )


# kinds whose verb is not the container verb of their last word
KIND_VERBS = {
    'image.pull': 'Pull',
    'image.remove': 'Remove image',
    'image.tag': 'Tag',
    'image.prune': 'Prune',
    'container.create': 'Create',
    'volume.create': 'Create volume',
    'volume.remove': 'Remove volume',
    'volume.prune': 'Prune',
    'network.create': 'Create network',
    'network.remove': 'Remove network',
    'network.prune': 'Prune',
    'network.connect': 'Connect',
    'network.disconnect': 'Disconnect',
    IDLE_STOP_KIND: 'Idle stop',
    'sandbox.run': 'Run',
    UPDATE_CHECK_KIND: 'Check for updates on',
}


def job_verb(job: Job) -> str:
    """'Pull', 'Remove image', 'Stop'...: what the job does, as a verb for titles and notifications."""
    action = parse_action(job.action)
    return KIND_VERBS.get(job.kind) or (action.spec.label if action else job.action.capitalize())


def describe_job(job: Job) -> str:
    """'Stop web: stopped — asked by alice' / 'Start web failed: No such container — asked by bob' /
    'Pull 127.0.0.1:5000/app:1: downloaded newer image … — asked by olga'."""
    verb = job_verb(job)
    if job.kind == IDLE_STOP_KIND and job.status == JobStatus.SUCCEEDED:
        return job.message  # 'Stopped env-dana-web after 30 idle minutes': nobody asked, the system did
    if job.status == JobStatus.SUCCEEDED:
        return f'{verb} {job.target_name}: {job.message or "done"} — asked by {job.requested_by}'
    return f'{verb} {job.target_name} failed: {job.message} — asked by {job.requested_by}'
