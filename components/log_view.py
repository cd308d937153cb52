"""LogView: live logs of one or more containers, with stop/resume, filter, timestamps, download and clear."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from nicegui import ui

from core.permissions import LOCAL_ENDPOINT, Forbidden, Identity, Permission, require
from core.streams.log_buffer import VIEW_CHARS, LineBuffer
from core.streams.log_decode import LogLine
from core.streams.log_stream import LogFollower
from core.streams.quota import QuotaExceeded, StreamSlot

from .container_access import reach_refusal
from .log_lines import LogLines
from .log_render import LineFilter, Pattern, plain_lines
from .log_render_queue import RenderQueue, in_slices
from .log_text import log_filename, parse_since

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

WHOLE_LOG_PATH = '/logs/download'
STREAMS = {'all': 'All streams', 'stdout': 'stdout only', 'stderr': 'stderr only'}
NOT_FOLLOWING = 'Not following: '


class LogView(ui.column):
    """Follows ``names`` on ``endpoint`` (or ``targets``: (endpoint, name) pairs on several hosts, each line then
    labelled ``endpoint/name`` with ``label_hosts``) live from the moment it is first shown (a hidden tab opens no
    stream) until it is closed.

    Keeps the last ``max_lines`` lines, at most ``max_chars`` characters of them; the filter narrows those. Each
    open, resume and download checks the viewer role again; an open stream holds one of the user's log view slots.
    Closing the browser tab (or deleting the element) ends the streams and gives the slot back. A browser that falls
    behind gets nothing more until it catches up (the lines wait in the bounded buffer; the view says so).
    """

    def __init__(
        self,
        services: Services,
        names: list[str],
        *,
        tail: int = 500,
        max_lines: int = 5000,
        max_chars: int = VIEW_CHARS,
        tagged: bool | None = None,
        endpoint: str = LOCAL_ENDPOINT,
        targets: list[tuple[str, str]] | None = None,
        label_hosts: bool = False,
    ) -> None:
        super().__init__()
        self.classes('w-full gap-2')
        self.services = services
        self.endpoint = endpoint  # the host the named containers are on (the first target's with ``targets``)
        self.targets = list(targets) if targets is not None else [(endpoint, name) for name in names]
        if targets:
            self.endpoint = targets[0][0]
        self.label_hosts = label_hosts
        self.names = [self._label(host, name) for host, name in self.targets]  # what each line is tagged with
        self.tags = {name: index for index, name in enumerate(self.names)}
        self.tagged = len(self.names) > 1 if tagged is None else tagged
        self.max_lines = max_lines
        self.tail = min(tail, max_lines)
        self.since: float | None = None
        self.lines = LineBuffer(max_lines=max_lines, max_chars=max_chars)
        self.dropped = 0
        self.skipped = 0  # lines not sent while the browser was behind (they wait in ``lines``)
        self.filter = LineFilter()
        self.pattern: Pattern | None = None
        self.followers: dict[str, LogFollower] = {}  # one per host of the targets, while the view follows
        self.slot: StreamSlot | None = None
        self.mounted = False
        self.hidden_while_following = False
        self.closed = False
        self.timestamps = True
        with self:
            self._toolbar()
            self.area = LogLines(max_lines=max_lines, label=f'Log of {", ".join(self.names)}')
            self.area.on('ready', self._on_ready)
            self.area.on('gone', self._on_gone)
            self.renderer = RenderQueue(
                send=lambda html, replace: self.area.send(html, replace=replace),
                tag=self._tag,
                max_lines=max_lines,
                max_chars=max_chars,
            )
            ui.timer(0.5, self._show_counts)
        ui.context.client.on_delete(self.close)

    def _toolbar(self) -> None:
        with ui.row().classes('w-full items-center gap-2'):
            self.follow_button = ui.button('Stop following', icon='pause', on_click=self.toggle_follow).props(
                'outline dense no-caps'
            )
            self.status = ui.label('Not following yet').classes('text-caption').props('role=status')
            ui.space()
            self.count = ui.label().classes('text-caption')
            ui.switch('Timestamps', value=True, on_change=lambda event: self.show_timestamps(bool(event.value)))
            ui.button('Clear view', icon='clear_all', on_click=self.clear_view).props('flat dense no-caps')
            with ui.button('Download', icon='download').props('flat dense no-caps'), ui.menu():
                ui.menu_item('Download what is shown', on_click=self.download_shown)
                ui.menu_item('Download the whole log', on_click=self.download_whole)
        with ui.row().classes('w-full items-center gap-2'):
            self.filter_input = (
                ui.input(placeholder='Filter lines', on_change=self._refilter)
                .props('dense outlined clearable debounce=250 aria-label="Filter log lines"')
                .classes('w-72')
            )
            self.regex = ui.checkbox('Regex', on_change=self._refilter).props('dense')
            self.match_case = ui.checkbox('Match case', on_change=self._refilter).props('dense')
            self.stream = (
                ui.select(STREAMS, value='all', on_change=self._refilter)
                .props('dense outlined aria-label="Streams"')
                .classes('w-36')
            )
            ui.space()
            self.tail_input = (
                ui.number('Last lines', value=self.tail, min=0, max=self.max_lines, precision=0)
                .props('dense outlined')
                .classes('w-28')
            )
            self.since_input = (
                ui.input('Since', placeholder='10m, 2h, 2024-05-01 12:00 (UTC)')
                .props('dense outlined clearable')
                .classes('w-64')
            )
            ui.button('Reload', icon='refresh', on_click=self.reload).props('flat dense no-caps')
        self.error = ui.label().classes('text-negative').props('role=alert')
        self.error.set_visibility(False)
        self.dropped_label = ui.label().classes('text-warning text-caption')
        self.dropped_label.set_visibility(False)
        self.paused_label = ui.label().classes('text-warning text-caption').props('role=status')
        self.paused_label.set_visibility(False)

    # --- following ---

    @property
    def following(self) -> bool:
        return any(follower.following for follower in self.followers.values())

    def toggle_follow(self) -> None:
        """Stops following, or resumes where it stopped (lines printed meanwhile are caught up)."""
        if self.following:
            self._stop_following()
        elif self._authorized() is not None:
            if not self.followers:
                self._open()
            else:
                self._resume_following()
        self._show_following()

    def follow_also(self, name: str, endpoint: str | None = None) -> None:
        """Adds a container to the view (a new member of the followed compose project), on ``endpoint`` (else the
        view's host)."""
        endpoint = endpoint or self.endpoint
        label = self._label(endpoint, name)
        if label not in self.tags:
            self.targets.append((endpoint, name))
            self.names.append(label)
            self.tags[label] = len(self.tags)
            if endpoint in self.followers:
                self.followers[endpoint].add(name)
            elif self.followers:  # following already: this host's stream starts now
                self._start_follower(endpoint)

    def reload(self) -> None:
        """Starts over from the last N lines the user chose, or from the time in Since (then Lines is not used)."""
        try:
            since = parse_since(self.since_input.value or '')
        except ValueError as error:
            self._say(str(error))
            return
        if self._authorized() is None:
            return
        self._say('')
        lines = max(0, min(int(self.tail_input.value or 0), self.max_lines))
        self.tail = lines if since is None else self.max_lines  # more than the view holds would be dropped anyway
        self.since = since
        self._close_follower()
        self.clear_view()
        self._open()

    def show_timestamps(self, visible: bool) -> None:
        """Timestamps on or off (the view keeps them; downloads of what is shown follow this switch)."""
        self.timestamps = visible
        self.area.show_timestamps(visible)

    def clear_view(self) -> None:
        """Empties the view; following goes on."""
        self.lines.clear()
        self.dropped = self.skipped = 0
        self.renderer.replace([], self.filter, self.pattern)

    def close(self) -> None:
        """Ends the streams for good (tab closed or element deleted) and gives the slot back."""
        self.closed = True
        self._close_follower()
        self.renderer.close()
        self.lines.clear()

    def _handle_delete(self) -> None:
        self.close()
        super()._handle_delete()

    def _open(self) -> None:
        identity = None if self.closed else self._authorized()
        if identity is None:
            return
        try:
            self.slot = self.services.log_quota.take(identity.username)  # one slot for the view, whatever its hosts
        except QuotaExceeded as refusal:
            self._say(f'{NOT_FOLLOWING}{refusal}.')
            self._show_following()
            return
        if self.error.text.startswith(NOT_FOLLOWING):
            self._say('')
        for endpoint in dict.fromkeys(host for host, _ in self.targets):
            self._start_follower(endpoint)
        self._show_following()

    def _start_follower(self, endpoint: str) -> None:
        follower = self.followers[endpoint] = LogFollower(
            state=self.services.state,
            endpoint=self.services.endpoints.get(endpoint),
            names=[name for host, name in self.targets if host == endpoint],
            on_lines=partial(self._on_host_lines, endpoint),
            tail=self.tail,
            since=self.since,
            max_pending=self.max_lines,
            max_pending_chars=self.lines.max_chars,
        )
        follower.start()

    def _stop_following(self) -> None:
        for follower in self.followers.values():
            follower.stop()

    def _resume_following(self) -> None:
        for follower in self.followers.values():
            follower.resume()

    def _close_follower(self) -> None:
        followers, self.followers = list(self.followers.values()), {}
        for follower in followers:
            follower.close()
        slot, self.slot = self.slot, None
        if slot is not None:
            slot.release()

    def _on_ready(self) -> None:
        self.mounted = True
        if not self.followers:
            self._open()
        elif self.hidden_while_following and self._authorized() is not None:
            self._resume_following()
            self._show_following()
        self.hidden_while_following = False
        self._send_all()

    def _on_gone(self) -> None:
        """Hidden (another tab of the page is shown): no stream while nobody looks; shown again, it catches up."""
        self.mounted = False
        if self.following:
            self._stop_following()
            self.hidden_while_following = True

    def _on_host_lines(self, endpoint: str, lines: list[LogLine], dropped: int) -> None:
        if self.label_hosts:
            lines = [line._replace(container=self._label(endpoint, line.container)) for line in lines]
        self._on_lines(lines, dropped)

    def _label(self, endpoint: str, name: str) -> str:
        return f'{endpoint}/{name}' if self.label_hosts else name

    def _on_lines(self, lines: list[LogLine], dropped: int) -> None:
        self.dropped += dropped + self.lines.extend(lines)
        if not self.mounted:
            return
        if self.skipped or not self.area.keeping_up:
            self.skipped += len(lines)
        else:
            self.renderer.append(lines[-self.max_lines :], self.filter, self.pattern)

    def _catch_up(self) -> None:
        """The browser answered again: what it missed and the buffer still holds is sent now."""
        if self.skipped >= len(self.lines):
            self._send_all()
        else:
            missed, self.skipped = self.skipped, 0
            self.renderer.append(self.lines.newest(missed), self.filter, self.pattern)

    # --- filter and display ---

    def _refilter(self) -> None:
        candidate = LineFilter(
            text=self.filter_input.value or '',
            regex=bool(self.regex.value),
            match_case=bool(self.match_case.value),
            stream=str(self.stream.value or 'all'),
        )
        try:
            pattern = candidate.compile()
        except ValueError as error:
            self._say(str(error))
            return
        self._say('')
        self.filter, self.pattern = candidate, pattern
        self._send_all()

    def _send_all(self) -> None:
        if self.mounted:
            self.skipped = 0
            self.renderer.replace(list(self.lines), self.filter, self.pattern)

    def _tag(self, line: LogLine) -> int | None:
        return self.tags.get(line.container, 0) if self.tagged else None

    def _show_following(self) -> None:
        following = self.following
        self.follow_button.props(f'icon={"pause" if following else "play_arrow"}')
        self.follow_button.text = 'Stop following' if following else 'Resume following'
        what = self.names[0] if len(self.names) == 1 else f'{len(self.names)} containers'
        self.status.text = f'Following {what}' if following else f'Not following {what}'

    def _show_counts(self) -> None:
        if not self.area.keeping_up:
            self.area.ask()
        elif self.skipped and self.mounted:
            self._catch_up()
        self.count.text = f'{len(self.lines):,} lines in view'
        self.dropped_label.text = f'{self.dropped:,} lines dropped from view; download the whole log for the full log.'
        self.dropped_label.set_visibility(self.dropped > 0)
        self.paused_label.text = f'Paused: your browser is not keeping up; {self.skipped:,} lines skipped.'
        self.paused_label.set_visibility(self.skipped > 0)

    def _say(self, sentence: str) -> None:
        self.error.text = sentence
        self.error.set_visibility(bool(sentence))

    def _authorized(self) -> Identity | None:
        """The viewer role (a developer: on its own containers only), and for Berth's own containers the admin role: at
        every open, resume and download."""
        try:
            identity = require(self.services.sessions.current(), Permission.CONTAINER_LOGS, 'read logs', None)
            rows = [row for host, name in self.targets if (row := self.services.state.find(name, host)) is not None]
            target = ', '.join(self.names)
            refusal = reach_refusal(
                self.services,
                identity,
                Permission.CONTAINER_LOGS,
                'read logs',
                rows,
                action='logs.follow',
                target=target,
            )
            if refusal:
                raise Forbidden(refusal[:-1])
            refusal = self.services.protection.read_refusal(identity.role, rows, 'logs')
            if refusal:
                self.services.audit.record(
                    username=identity.username,
                    role=identity.role,
                    action='logs.follow',
                    target=', '.join(self.names),
                    params={},
                    result=f'refused: {refusal}',
                    address=identity.address,
                )
                raise Forbidden(refusal)
            return identity
        except Forbidden as error:
            self._say(f'{str(error)[:1].upper()}{str(error)[1:]}.')
            return None

    # --- downloads ---

    async def download_shown(self) -> None:
        """The lines the view shows now (after the filter), as a text file; audited."""
        identity = self._authorized()
        if identity is None:
            return
        work = partial(
            plain_lines, line_filter=self.filter, pattern=self.pattern, timestamps=self.timestamps, tagged=self.tagged
        )
        shown = await in_slices(list(self.lines), work)
        if shown is None:
            return
        text = '\n'.join(shown) + '\n'
        ui.download.content(text.encode(), filename=log_filename(self.names), media_type='text/plain')
        self.services.audit.record(
            username=identity.username,
            role=identity.role,
            action='logs.download',
            target=', '.join(self.names),
            result='succeeded',
            address=identity.address,
            params={'scope': 'shown', 'lines': len(shown), 'filter': self.filter.text},
        )

    def download_whole(self) -> None:
        """The whole log from the daemon, streamed by the download route (which checks the role and audits)."""
        if self._authorized() is None:
            return
        if len({host for host, _ in self.targets}) > 1:
            self._say('The whole log is downloaded one host at a time: choose a host in the switcher.')
            return
        query = urlencode(
            {
                'containers': ','.join(name for _, name in self.targets),
                'timestamps': int(self.timestamps),
                'endpoint': self.endpoint,
            }
        )
        ui.download.from_url(f'{WHOLE_LOG_PATH}?{query}')
