"""The page frame every signed-in page sits in: header, navigation, job badge, engine banner, dark mode."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from nicegui import app, ui

from components.database_banner import DatabaseBanner
from components.hosts import HostSwitcher, host_name, remember_choice, status_text
from components.queue_banner import QueueBanner
from components.tab_render import TabRender
from core.jobs.store import Job, JobStatus, JobUpdate
from core.permissions import ANYWHERE, LOCAL_ENDPOINT, Forbidden, Identity, Permission, require
from core.state.model import ChangeKind, StateChange

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

BADGE_SECONDS = 0.25  # the job centre button's count of active jobs: at most this often

# (label, path, icon, the permission the page needs, whether holding it on one's own things is enough)
NAVIGATION: tuple[tuple[str, str, str, Permission, bool], ...] = (
    ('Dashboard', '/', 'dashboard', Permission.CONTAINER_READ, False),
    ('Containers', '/containers', 'view_list', Permission.CONTAINER_READ, False),
    ('Environments', '/environments', 'terminal', Permission.CONTAINER_READ, True),
    ('Images', '/images', 'layers', Permission.IMAGE_READ, False),
    ('Volumes', '/volumes', 'storage', Permission.VOLUME_READ, False),
    ('Networks', '/networks', 'lan', Permission.NETWORK_READ, False),
    ('Stacks', '/stacks', 'stacks', Permission.STACK_READ, False),
    ('Run', '/run', 'play_arrow', Permission.SANDBOX_RUN, True),
    ('Jobs', '/jobs', 'work_history', Permission.JOB_READ, True),
    ('Users', '/admin/users', 'group', Permission.USERS_MANAGE, False),
    ('Templates', '/admin/templates', 'dashboard_customize', Permission.TEMPLATES_MANAGE, False),
    ('Quotas', '/admin/quotas', 'data_usage', Permission.QUOTAS_MANAGE, False),
    ('Runtimes', '/admin/runtimes', 'memory', Permission.RUNTIMES_MANAGE, False),
    ('Hosts', '/admin/endpoints', 'dns', Permission.ENDPOINTS_MANAGE, False),
    ('Host roles', '/admin/host-roles', 'admin_panel_settings', Permission.USERS_MANAGE, False),
    ('Audit', '/admin/audit', 'policy', Permission.AUDIT_READ, False),
    ('Recordings', '/recordings', 'smart_display', Permission.USERS_MANAGE, False),
)


def on_client_delete(function: Callable[[], None]) -> None:
    """Runs ``function`` when the current browser tab's client goes away (tab closed, navigated away)."""
    ui.context.client.on_delete(function)


def page_identity(services: Services, permission: Permission, what: str, *, own: bool = False) -> Identity | None:
    """The guard at page load: the signed-in identity with ``permission``, or None after sending the browser away.

    With ``own``, a role that grants the permission only on its holder's own resources may open the page too (the
    page then shows only those). The page is remembered with ``permission``: when its session ends or loses it, the
    page is closed."""
    identity = services.sessions.current()
    if identity is None:
        ui.navigate.to('/login')
        return None
    try:
        require(identity, permission, what, None if own else ANYWHERE)
        services.sessions.attach(identity, permission, own=own)
        return identity
    except Forbidden as refusal:
        with ui.column().classes('absolute-center items-center'):
            ui.label(f'{refusal}.').classes('text-h6').props('role=alert')
            back_link(identity)
        return None


def home_path(identity: Identity) -> str:
    """Where this person starts: the dashboard, or (a developer, who sees only its own things) its environments."""
    return '/' if identity.can(Permission.CONTAINER_READ) else '/environments'


def back_link(identity: Identity) -> None:
    path = home_path(identity)
    ui.link('Back to the dashboard' if path == '/' else 'Back to my environments', path)


def may_open(identity: Identity, permission: Permission, own: bool) -> bool:
    return identity.holds(permission) if own else identity.can(permission)


@contextmanager
def frame(services: Services, identity: Identity, title: str) -> Iterator[None]:
    """Lays out header and banner, then yields for the page's own content (``page_identity`` comes first)."""
    dark = ui.dark_mode(app.storage.user.get('dark'))
    remember_choice()

    with ui.header().classes('items-center gap-4 px-4 py-2'):
        ui.link('Berth', home_path(identity)).classes('text-h6 text-white no-underline')
        with ui.row().classes('gap-1').props('role=navigation aria-label="Main"'):
            for label, target, icon, permission, own in NAVIGATION:
                if may_open(identity, permission, own):  # a developer sees only what it may open
                    ui.button(label, icon=icon, on_click=lambda target=target: ui.navigate.to(target)).props(
                        'flat color=white'
                    )
        ui.space()
        HostSwitcher(services)
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
    QueueBanner(services)
    DatabaseBanner(services)

    def show_engine(change: StateChange | None = None) -> None:
        if change is None or change.kind == ChangeKind.ENGINE:
            down = services.state.unreachable()
            banner.text = ' · '.join(
                status.message
                if status.endpoint == LOCAL_ENDPOINT
                else f'Host "{host_name(services, status.endpoint)}": {status_text(status)}'
                for status in down
            )
            banner.set_visibility(bool(down))

    def show_badge() -> None:
        count = sum(1 for job in services.jobs.active() if identity.can(Permission.JOB_READ, job.scope))
        badge.text = str(count) if count else ''
        badge.set_visibility(count > 0)

    # counting goes through every active job: once per job update and tab, a burst of a thousand jobs cost the event
    # loop seconds (bench/load.py); heartbeats change no count
    badge_renders = TabRender(show_badge, BADGE_SECONDS)

    def on_job(job: Job | None, update: JobUpdate) -> None:
        if update.status != JobStatus.HEARTBEAT:
            badge_renders.request()

    show_engine()
    show_badge()
    on_client_delete(services.state.subscribe(show_engine))
    on_client_delete(services.jobs.subscribe(on_job))
    ui.page_title(f'{title} · Berth')
    with ui.column().classes('w-full q-pa-md gap-3'):
        yield


def _sign_out(services: Services) -> None:
    services.sessions.leave(ui.context.client.id)  # this tab leaves by itself; /logout closes it with the others
    ui.navigate.to('/logout')


def _toggle_dark(dark: ui.dark_mode) -> None:
    dark.value = not dark.value
    app.storage.user['dark'] = dark.value
