"""Which Docker host a person looks at (every host, or one), and the host switcher in the header: each endpoint with
its status (connected, or unreachable since when and retrying), live from the state."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from nicegui import app, ui

from core.permissions import LOCAL_ENDPOINT
from core.state.model import ChangeKind, HostStatus, StateChange

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

ALL_HOSTS = ''  # the switcher's "All hosts"
HOST_KEY = 'host'  # in the person's storage: the host they chose ('' for all)


def chosen_host(services: Services) -> str | None:
    """The endpoint id chosen in the switcher, or None for every host (also when the chosen one is gone)."""
    chosen = str(app.storage.user.get(HOST_KEY, ALL_HOSTS) or '')
    return chosen if chosen and chosen in services.endpoints else None


def single_host(services: Services) -> str:
    """For the pages that show one host at a time (images, volumes, networks): the chosen one, else ``local``."""
    return chosen_host(services) or LOCAL_ENDPOINT


def several_hosts(services: Services) -> bool:
    return len(services.endpoints.ids) > 1


def host_name(services: Services, endpoint: str) -> str:
    try:
        return services.endpoints.get(endpoint).name
    except LookupError:
        return endpoint


def status_text(status: HostStatus | None, now: float | None = None) -> str:
    """'connected', or 'unreachable since 14:02:11 (3 min) — retrying'."""
    if status is None:
        return 'not watched'
    if status.ok:
        return 'connected'
    if status.message.startswith('connecting'):
        return 'connecting'
    minutes = int(((now or time.time()) - status.since) // 60)
    ago = f'{minutes} min' if minutes else 'under a minute'
    return f'unreachable since {time.strftime("%H:%M:%S", time.localtime(status.since))} ({ago}) — retrying'


class HostSwitcher(ui.button):
    """A header button naming the host shown (a red dot when any host is unreachable) with a menu of every host and
    its status; choosing one keeps it for this person and reloads the page."""

    def __init__(self, services: Services) -> None:
        super().__init__(icon='dns')
        self.services = services
        # read while the page is built: a state listener runs outside the request, where the user storage is not
        self.chosen = chosen_host(services)
        self.props('flat no-caps color=white aria-label="Hosts"').mark('host-switcher')
        with self:
            self.dot = ui.badge('', color='negative').props('floating rounded')
            with ui.menu() as self.menu:
                self.items = ui.column().classes('gap-0')
        self.show()
        ui.context.client.on_delete(services.state.subscribe(self.on_state))

    def on_state(self, change: StateChange) -> None:
        if change.kind == ChangeKind.ENGINE:
            self.show()

    def show(self) -> None:
        chosen = self.chosen if self.chosen in self.services.endpoints else None
        self.text = 'All hosts' if chosen is None else host_name(self.services, chosen)
        self.dot.set_visibility(bool(self.services.state.unreachable()))
        self.items.clear()
        with self.items:
            ui.menu_item('All hosts', on_click=lambda: self.choose(ALL_HOSTS)).props('aria-label="All hosts"')
            for endpoint in self.services.endpoints:
                status = status_text(self.services.state.hosts.get(endpoint.id))
                item = ui.menu_item(endpoint.name, on_click=lambda endpoint_id=endpoint.id: self.choose(endpoint_id))
                item.props['aria-label'] = f'Host {endpoint.name}: {status}'
                item.mark(f'host-{endpoint.id}')
                with item:
                    ui.label(status).classes(
                        'q-ml-sm text-caption' + ('' if status == 'connected' else ' text-negative')
                    )

    def choose(self, endpoint_id: str) -> None:
        """The same page again with ``?host=``: the frame keeps the choice while the page is built."""
        ui.navigate.to(f'{ui.context.client.request.url.path}?{urlencode({"host": endpoint_id or "all"})}')


def remember_choice() -> None:
    """In a page being built: a ``?host=`` the switcher asked for becomes this person's choice."""
    requested = ui.context.client.request.query_params.get('host')
    if requested is not None:
        app.storage.user[HOST_KEY] = '' if requested == 'all' else requested
