"""/images: every image, live from the event stream; pull, run, tag, remove, prune (``?prune=1`` opens the prune of
dangling images at once, ``?prune=unused`` that of every unused image: the dashboard links here); "Check for updates"
and an "update available" badge on the images whose tag the registry now names another image under."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from nicegui import ui

from components.frame import frame, on_client_delete, page_identity
from components.hosts import single_host
from components.image_dialogs import PruneDialog, RemoveImageDialog, TagDialog, unique_sizes
from components.image_table import ImageTable
from components.links import on_host
from components.pull_form import PullForm
from components.pull_progress import PullCard
from components.update_badge import badge_cell
from core.commands.images import PRUNE_MODES
from core.docker.client import describe_error
from core.errors import CommandError
from core.jobs.store import Job, JobStatus, JobUpdate
from core.permissions import Forbidden, Identity, Permission, Scope
from core.state.images import ImageRow, format_size, prune_candidates
from core.state.model import CONTAINER_CHANGES, IMAGE_CHANGES, StateChange, state_key

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

COALESCE_SECONDS = 0.015
PULL_CARDS = 5  # the latest pulls started in this tab stay on the page


def register(services: Services) -> None:
    @ui.page('/images')
    def images_page(prune: str = '') -> None:
        identity = page_identity(services, Permission.IMAGE_READ, 'see images')
        if identity is None:
            return
        with frame(services, identity, 'Images'):
            view = ImagesView(services, identity)
            if prune and identity.can(Permission.IMAGE_PRUNE):
                mode = 'unused' if prune == 'unused' else 'dangling'
                ui.timer(0.01, lambda: view.prune(mode), once=True)  # once connected: the dialog needs the socket


def sentence(error: Exception) -> str:
    return f'{str(error)[:1].upper()}{str(error)[1:]}.'


async def run_command(services: Services, command: Any, *arguments: Any, **keywords: Any) -> Job | None:
    """Runs one command as the current user; a refusal or a wrong request becomes a notification."""
    try:
        return await command(services.sessions.current(), *arguments, **keywords)  # type: ignore[no-any-return]
    except (Forbidden, CommandError) as error:
        ui.notify(sentence(error), type='negative', multi_line=True)
        return None


class ImagesView:
    """Toolbar, pull form (operators), table; re-renders (coalesced) when images or containers change."""

    def __init__(self, services: Services, identity: Identity) -> None:
        self.services = services
        self._pending: asyncio.TimerHandle | None = None
        self._counts: dict[str, int] = {}
        self.host = single_host(services)  # one host at a time: image ids repeat across hosts
        self.identity = identity
        here = Scope(endpoint=self.host)  # pull, prune, create and checks act on the host shown
        row_actions = identity.can(Permission.IMAGE_REMOVE, here)
        operator = identity.can(Permission.IMAGE_PULL, here)
        self.endpoint = self.host
        with ui.row().classes('w-full items-center gap-3'):
            ui.label('Images' + on_host(self.host)).classes('text-h5')
            self.summary = ui.label().classes('text-caption')
            self.update_summary = ui.label().classes('text-caption').mark('update-summary')
            ui.space()
            self.search = (
                ui.input(placeholder='Filter')
                .props('clearable dense outlined aria-label="Filter images"')
                .classes('w-64')
            )
            if identity.can(Permission.IMAGE_PRUNE, here):
                for mode, what in PRUNE_MODES.items():
                    ui.button(
                        f'Prune {what}…', icon='cleaning_services', on_click=lambda mode=mode: self.prune(mode)
                    ).props(f'flat no-caps aria-label="Prune {what}"')
            if identity.can(Permission.CONTAINER_CREATE, here):
                ui.button('Create container', icon='add', on_click=lambda: ui.navigate.to('/containers/new')).props(
                    'flat no-caps'
                )
            if operator:
                ui.button('Check for updates', icon='update', on_click=self.check_updates).props(
                    'flat no-caps aria-label="Check for updates"'
                )
        self.cards: dict[str, PullCard] = {}
        if operator:
            PullForm(self.pull, services.credentials.saved, self.forget)
            self.pulls = ui.column().classes('w-full gap-2')
        self.table = ImageTable(self.row_action if row_actions else None).classes('w-full')
        self.table.bind_filter_from(self.search, 'value')
        self.render()
        on_client_delete(services.state.subscribe(self.on_state))
        on_client_delete(services.jobs.subscribe(self.on_job))
        on_client_delete(services.updates.subscribe(lambda endpoint, references: self.schedule()))

    def on_job(self, job: Job, update: JobUpdate) -> None:
        card = self.cards.get(job.job_id)
        if card is not None and update.status != JobStatus.HEARTBEAT:
            card.show(job)

    def on_state(self, change: StateChange) -> None:
        # a container change matters here only when it changes how many containers use an image
        if change.kind in IMAGE_CHANGES or (
            change.kind in CONTAINER_CHANGES and self.services.state.containers_using(self.host) != self._counts
        ):
            self.schedule()

    def schedule(self) -> None:
        if self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(COALESCE_SECONDS, self._flush)

    def _flush(self) -> None:
        self._pending = None
        self.render()

    def render(self) -> None:
        images = [
            image
            for image in self.services.state.images.values()
            if image.endpoint == self.host and self.identity.can(Permission.IMAGE_READ, image.scope)
        ]
        dangling = sum(1 for image in images if image.dangling)
        total = format_size(sum(image.size for image in images))
        self.summary.text = f'{len(images)} images, {total}, {dangling} dangling'
        self._counts = self.services.state.containers_using(self.host)
        self.table.show(images, self._counts, self.update_badge)
        self.update_summary.text = self.describe_updates()

    def update_badge(self, image: ImageRow) -> dict[str, Any] | None:
        """The first of the image's tags the registry now names another image under."""
        for tag in image.tags:
            badge = badge_cell(self.services.updates.status(image.endpoint, tag, image.id))
            if badge is not None:
                return badge
        return None

    def describe_updates(self) -> str:
        updates = self.services.updates
        if updates.checking(self.endpoint):
            return '· checking for updates…'
        checked = updates.last_checked(self.endpoint)
        if not checked:
            return '· not checked for updates yet'
        available = sum(1 for image in self.services.state.images.values() if self.update_badge(image))
        when = datetime.fromtimestamp(checked, UTC).strftime('%Y-%m-%d %H:%M UTC')
        return f'· updates available for {available} image{"s" if available != 1 else ""} (checked {when})'

    async def check_updates(self) -> None:
        """Queues a check of every image reference in use here; the badges follow when it ends."""
        job = await run_command(self.services, self.services.commands.check_updates, self.endpoint)
        if job is not None:
            self.schedule()
            ui.notify('Checking the images in use for updates.', type='info')

    async def pull(self, reference: str, username: str, password: str, save: bool) -> str | None:
        """Queues the pull and follows it here (its job page has the output); a wrong reference comes back as the
        field's error."""
        try:
            job = await self.services.commands.pull_image(
                self.services.sessions.current(),
                reference,
                username=username,
                password=password,
                save=save,
                endpoint=self.host,
            )
        except CommandError as error:
            return sentence(error)
        except Forbidden as error:
            ui.notify(sentence(error), type='negative')
            return None
        with self.pulls:
            self.cards[job.job_id] = PullCard(job, self.cancel)
            self.cards[job.job_id].move(self.pulls, target_index=0)
        for job_id in list(self.cards)[:-PULL_CARDS]:
            self.cards.pop(job_id).delete()
        return None

    def cancel(self, job_id: str) -> None:
        try:
            self.services.commands.cancel_job(self.services.sessions.current(), job_id)
        except (Forbidden, CommandError) as error:
            ui.notify(sentence(error), type='negative')

    def forget(self, registry: str) -> None:
        try:
            self.services.commands.forget_credentials(self.services.sessions.current(), registry)
        except Forbidden as error:
            ui.notify(sentence(error), type='negative')

    async def row_action(self, action: str, image_id: str) -> None:
        key = state_key(self.host, image_id)
        image = self.services.state.images.get(key)
        if image is None:
            ui.notify('That image no longer exists.', type='warning')
            return
        await image_action(self.services, action, key)

    async def prune(self, mode: str) -> None:
        state = self.services.state
        here = [image for image in state.images.values() if image.endpoint == self.host]
        candidates = prune_candidates(here, set(state.containers_using(self.host)), unused=mode == 'unused')
        if not candidates:
            ui.notify(f'There are no {PRUNE_MODES[mode]} to remove.', type='info')
            return
        try:
            sizes = unique_sizes(await self.services.host_reads(self.host).disk_usage())
        except Exception as error:  # the daemon is away: the dialog falls back to whole image sizes
            ui.notify(f'Could not measure shared layers: {describe_error(error)}', type='warning')
            sizes = {}
        confirmed = await PruneDialog(PRUNE_MODES[mode], candidates, sizes).ask()
        if confirmed:
            await run_command(self.services, self.services.commands.prune_images, mode, confirmed, endpoint=self.host)


async def image_action(services: Services, action: str, image_id: str) -> None:
    """Run (opens the create form), Tag or Remove one image (``image_id``: its key in the live state), asking first
    where something changes."""
    image = services.state.images.get(image_id)
    if image is None:
        return
    if action == 'run':
        reference = quote(image.tags[0] if image.tags else image.id)
        ui.navigate.to(f'/containers/new?image={reference}&host={quote(image.endpoint)}')  # created on the image's host
    elif action == 'tag':
        reference = await TagDialog(image).ask()
        if reference:
            await run_command(services, services.commands.tag_image, image_id, reference)
    elif action == 'remove':
        answer = await RemoveImageDialog(image, services.state.containers_using(image.endpoint).get(image.id, 0)).ask()
        if answer is not None:
            await run_command(services, services.commands.remove_image, image_id, force=bool(answer['force']))
