"""The page frame every signed-in page sits in: header, navigation, job badge, engine banner, dark mode."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from nicegui import app, ui

from core.jobs.store import Job, JobUpdate
from core.permissions import Forbidden, Identity, Permission, require
from core.state.model import ChangeKind, StateChange

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

NAVIGATION = (
    ('Dashboard', '/', 'dashboard'),
    ('Containers', '/containers', 'view_list'),
    ('Images', '/images', 'layers'),
    ('Volumes', '/volumes', 'storage'),
    ('Networks', '/networks', 'lan'),
    ('Jobs', '/jobs', 'work_history'),
)
ADMIN_NAVIGATION = (('Users', '/admin/users', 'group'), ('Audit', '/admin/audit', 'policy'))


def on_client_delete(function: Callable[[], None]) -> None:
    """Runs ``function`` when the current browser tab's client goes away (tab closed, navigated away)."""
    ui.context.client.on_delete(function)


def page_identity(services: Services, permission: Permission, what: str) -> Identity | None:
    """The guard at page load: the signed-in identity with ``permission``, or None after sending the browser away.

    The page is remembered with ``permission``: when its session ends or loses it, the page is closed."""
    identity = services.sessions.current()
    if identity is None:
        ui.navigate.to('/login')
        return None
    try:
        require(identity, permission, what)
        services.sessions.attach(identity, permission)
        return identity
    except Forbidden as refusal:
        with ui.column().classes('absolute-center items-center'):
            ui.label(f'{refusal}.').classes('text-h6').props('role=alert')
            ui.link('Back to containers', '/containers')
        return None


@contextmanager
def frame(services: Services, identity: Identity, title: str) -> Iterator[None]:
    """Lays out header and banner, then yields for the page's own content (``page_identity`` comes first)."""
    dark = ui.dark_mode(app.storage.user.get('dark'))

    with ui.header().classes('items-center gap-4 px-4 py-2'):
        ui.link('Berth', '/').classes('text-h6 text-white no-underline')
        with ui.row().classes('gap-1').props('role=navigation aria-label="Main"'):
            for label, target, icon in NAVIGATION + (ADMIN_NAVIGATION if identity.can(Permission.USERS_MANAGE) else ()):
                ui.button(label, icon=icon, on_click=lambda target=target: ui.navigate.to(target)).props(
                    'flat color=white'
                )
        ui.space()
        with ui.button(icon='notifications', on_click=lambda: ui.navigate.to('/jobs')).props(
            'flat round color=white aria-label="Job centre"'
        ):
            badge = ui.badge('', color='orange').props('floating')
        ui.button(icon='dark_mode', on_click=lambda: _toggle_dark(dark)).props(
            'flat round color=white aria-label="Toggle dark mode"'
        )
        ui.label(f'{identity.username} · {identity.role}').classes('text-white')
        ui.button(icon='logout', on_click=lambda: _sign_out(services)).props(
            'flat round color=white aria-label="Sign out"'
        )

    banner = ui.label().classes('w-full bg-negative text-white q-pa-sm text-center').props('role=alert')

    def show_engine(change: StateChange | None = None) -> None:
        if change is None or change.kind == ChangeKind.ENGINE:
            banner.text = services.state.engine_message if not services.state.engine_ok else ''
            banner.set_visibility(not services.state.engine_ok)

    def show_badge(job: Job | None = None, update: JobUpdate | None = None) -> None:
        count = services.jobs.active_count
        badge.text = str(count) if count else ''
        badge.set_visibility(count > 0)

    show_engine()
    show_badge()
    on_client_delete(services.state.subscribe(show_engine))
    on_client_delete(services.jobs.subscribe(show_badge))
    ui.page_title(f'{title} · Berth')
    with ui.column().classes('w-full q-pa-md gap-3'):
        yield


def _sign_out(services: Services) -> None:
    services.sessions.leave(ui.context.client.id)  # this tab leaves by itself; /logout closes it with the others
    ui.navigate.to('/logout')


def _toggle_dark(dark: ui.dark_mode) -> None:
    dark.value = not dark.value
    app.storage.user['dark'] = dark.value
