"""/containers/new: the create-and-run form (operators and admins) for the host chosen in the switcher (``local`` when
every host is shown); the job's page follows the creation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

from components.create_form import CreateForm
from components.frame import frame, page_identity
from components.hosts import single_host
from components.links import on_host
from core.commands import policy
from core.docker.client import describe_error
from core.errors import CommandError
from core.permissions import Forbidden, Identity, Permission, Scope, require

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services


def register(services: Services) -> None:
    @ui.page('/containers/new')
    async def create_page(image: str = '') -> None:
        # opens for a role that may create on some host; the host shown is checked below
        identity = page_identity(services, Permission.CONTAINER_CREATE, 'create containers', own=True)
        if identity is None:
            return
        with frame(services, identity, 'New container'):
            host = single_host(services)  # the host chosen in the switcher (else local)
            here = Scope(endpoint=host)
            with ui.row().classes('w-full items-center gap-2'):
                ui.link('Containers', '/containers')
                ui.label('/')
                ui.label('New container' + on_host(host)).classes('text-h5')
            try:
                require(identity, Permission.CONTAINER_CREATE, 'create containers', here)
            except Forbidden as refusal:
                ui.label(f'{refusal}.').classes('text-body1').props('role=alert')
                return
            networks = await host_networks(services, host)
            tags = sorted(tag for row in services.state.images.values() if row.endpoint == host for tag in row.tags)
            CreatePage(
                services,
                identity,
                CreateForm(
                    image=image,
                    local_tags=tags,
                    networks=networks,
                    admin=identity.can(Permission.CONTAINER_BODY_ADMIN, here),
                ),
                host,
            )


async def host_networks(services: Services, host: str) -> list[str]:
    try:
        return await services.host_reads(host).network_names()
    except Exception as error:  # the daemon is away: the default network still works
        ui.notify(f'Could not list networks: {describe_error(error)}', type='warning')
        return []


class CreatePage:
    def __init__(self, services: Services, identity: Identity, form: CreateForm, host: str) -> None:
        self.services, self.identity, self.form, self.host = services, identity, form, host
        with ui.row().classes('gap-2'):
            self.button = ui.button('Create', icon='add', on_click=self.submit).props('aria-label="Create container"')
            ui.button('Cancel', on_click=ui.navigate.back).props('flat')

    async def submit(self) -> None:
        spec = self.form.spec()
        if spec is None:
            ui.notify('Some fields need correcting (see the messages under them).', type='warning')
            return
        # the command layer decides; this only puts its refusals under the fields they are about
        refusals = policy.refusals_by_field(spec, self.identity.role_on(self.host))
        if refusals:
            self.form.show_errors(refusals)
        try:
            job = await self.services.commands.create_container(
                self.services.sessions.current(), spec, endpoint=self.host
            )
        except (Forbidden, CommandError) as error:
            ui.notify(f'{str(error)[:1].upper()}{str(error)[1:]}.', type='negative', multi_line=True)
            return
        ui.navigate.to(f'/jobs/{job.job_id}')
