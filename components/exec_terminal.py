"""ExecTerminal: one terminal — an xterm wired to one exec (or attach) session at a time, with a status line."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import TYPE_CHECKING

from nicegui import background_tasks, run, ui
from nicegui.events import XtermDataEventArguments, XtermResizeEventArguments

from core.docker.client import describe_error
from core.permissions import LOCAL_ENDPOINT, Forbidden, Identity, Permission, Scope, require
from core.streams.engine_gone import ENGINE_GONE
from core.streams.exec_output import Coalescer
from core.streams.exec_session import ExecRequest, ExecSession, SessionError
from core.streams.quota import QuotaExceeded, StreamSlot

from .terminal_access import TerminalBody, as_sentence, look_up_body
from .terminal_output import MESSAGE_CHARS, PAUSED, WINDOW, TerminalOutput

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

PERMISSION = Permission.CONTAINER_EXEC
WHAT = 'open a terminal'
OPTIONS = {
    'cursorBlink': True,
    'scrollback': 5000,
    'fontSize': 14,
    'fontFamily': 'ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace',
}
# Defined once per page. ready() fits the terminal and keeps it fitted; with text selected, Ctrl-C copies instead of
# interrupting, and Ctrl-V is left to the browser, whose paste event xterm turns into input. write() resolves once
# xterm has parsed the text: that is the acknowledgement the session's window waits for. A terminal that was
# re-mounted (a tab panel without keep-alive) is set up again on its next write.
HELPER = """window.berthTerminal = window.berthTerminal || {
  ready(id) {
    const view = getElement(id);
    if (!view || !view.terminal || !view.$el.isConnected) return null;
    const terminal = view.terminal;
    if (!view.berthReady) {
      view.berthReady = true;
      terminal.attachCustomKeyEventHandler((event) => {
        if (event.type !== 'keydown' || !(event.ctrlKey || event.metaKey)) return true;
        const key = event.key.toLowerCase();
        return !((key === 'c' && (event.shiftKey || terminal.hasSelection())) || key === 'v');
      });
      new ResizeObserver(() => view.fit()).observe(view.$el);
    }
    view.fit();
    return [terminal.rows, terminal.cols];
  },
  write(id, data) {
    const view = getElement(id);
    if (!view || !view.terminal) return false;
    if (!view.berthReady) this.ready(id);
    return new Promise((resolve) => view.terminal.write(data, () => resolve(true)));
  },
};
"""


class ExecTerminal(ui.column):
    """An xterm plus a status line and a Reconnect button, wired to one session in one container at a time.

    Operators and admins; developers in their own containers only; a container whose body only an admin may create, or
    one of Berth's own, admins only.
    Checked when a session opens and again on every keystroke and resize. A running session holds one of its user's
    terminal slots (``BERTH_TERMINALS_PER_USER``). Sessions are audited when they start and end, refusals when they
    happen. Deleting the element (tab closed, page left, connection lost for good) ends the session and everything it
    started in the container.
    """

    def __init__(
        self, services: Services, request: ExecRequest, *, container_name: str, endpoint: str = LOCAL_ENDPOINT
    ) -> None:
        super().__init__()
        self.services = services
        self.endpoint = endpoint
        self.request = request
        self.container_name = container_name
        self.session: ExecSession | None = None
        self.output: TerminalOutput | None = None
        self.slot: StreamSlot | None = None
        self.body: TerminalBody | None = None
        self.identity: Identity | None = None
        self.size = (24, 80)
        self._connecting = False
        self._description = ''
        self.classes('w-full h-full gap-1 no-wrap')
        with self:
            with ui.row().classes('w-full items-center gap-2 no-wrap'):
                self.status = ui.label('Connecting…').classes('text-caption').props('role=status')
                self.reconnect_button = ui.button('Reconnect', icon='refresh', on_click=self.connect).props(
                    'dense flat no-caps'
                )
                self.reconnect_button.set_visibility(False)
            self.terminal = (
                ui.xterm(OPTIONS, on_data=self._on_data, on_resize=self._on_resize)
                .classes('w-full')
                .style('flex: 1 1 0; min-height: 8rem; overflow: hidden')
                .props('data-berth-terminal')
            )
        background_tasks.create(self.connect(), name='open terminal')

    @property
    def action(self) -> str:
        return 'container.attach' if self.request.attach else 'container.exec'

    async def connect(self) -> None:
        """Opens a new session (first time, or Reconnect, which replaces the old one) once the browser shows the
        terminal."""
        if self._connecting:
            return
        self._connecting = True
        try:
            await self._connect()
        finally:
            self._connecting = False

    async def _connect(self) -> None:
        self.reconnect_button.set_visibility(False)
        self._end_session()
        try:
            self.identity = identity = self._authorize()
        except Forbidden as refusal:
            self._refuse(refusal)
            return
        size = await self._mounted_size()
        if size is None:
            return
        self._show('Connecting…')
        try:
            self.body = await look_up_body(self.services, self.request.container_id)
        except Exception as error:  # gone meanwhile, or the engine is unreachable: the daemon's message
            if not self.is_deleted:
                self._end_with(f'Could not open the terminal: {describe_error(error)}.')
            return
        if self.is_deleted:
            return
        try:
            self._check_container(identity)
            slot = self.services.terminal_quota.take(identity.username)
        except Forbidden as refusal:
            self._refuse(refusal)
            return
        except QuotaExceeded as refusal:
            self._refuse(refusal, retry=True)
            return
        self.terminal.run_terminal_method('reset')
        recorder = self.services.recordings.recorder(
            username=identity.username,
            owner=identity.owner_id,
            container=self.container_name,
            container_id=self.request.container_id,
            endpoint=self.endpoint,
        )
        session = self.services.terminals.session(
            self.request,
            loop=asyncio.get_running_loop(),
            window=WINDOW,
            coalescer=Coalescer(limit=MESSAGE_CHARS),
            on_output=lambda text: output.add(text),  # noqa: PLW0108 — output is made below
            on_exit=lambda code: self._on_exit(session, code),
            endpoint=self.endpoint,
            recorder=recorder,
        )
        output = TerminalOutput(
            self.terminal,
            acknowledge=session.acknowledge,
            on_pause=lambda: self._on_pause(output),
            on_resume=lambda: self._on_resume(output),
        )
        self.session, self.output, self.slot = session, output, slot
        try:
            await run.io_bound(session.open, *size)
        except SessionError as error:
            self._audit(f'failed: {error}', session)
            if self.session is session:
                self._end_session(close=False)
                self._end_with(f'Could not open the terminal: {error}.')
            return
        self._audit('started', session)
        if self.session is not session:  # closed or refused while it opened: that ended the session
            return
        if self.size != size:
            await run.io_bound(session.resize, *self.size)
        who = f' as {self.request.user}' if self.request.user else ''
        self._description = f'{" ".join(session.command)}{who} in {self.container_name}'
        self._show(self._description)

    def _end_session(self, *, close: bool = True) -> None:
        """Lets go of the current session: its output stops, its slot is given back, and unless it ended by itself it
        is closed (in a thread: closing waits for the hangup to work)."""
        session, output, slot = self.session, self.output, self.slot
        self.session, self.output, self.slot = None, None, None
        if output is not None:
            output.close()
        if slot is not None:
            slot.release()
        if session is not None and close:
            threading.Thread(target=session.close, name='berth-exec-close').start()

    def _handle_delete(self) -> None:
        self._end_session()
        super()._handle_delete()

    def _authorize(self) -> Identity:
        identity = require(self.services.sessions.current(), PERMISSION, WHAT, self._scope())
        if self.identity is not None and identity.username != self.identity.username:
            raise Forbidden(f'this terminal belongs to {self.identity.username}')
        return identity

    def _scope(self) -> Scope:
        """The container's owner and endpoint (a developer reaches only its own): from the live state, else from the
        inspect data once looked up; a container known to neither is nobody's."""
        row = self.services.state.containers.get(self.request.container_id)
        if row is not None:
            return row.scope
        labels = ((self.body.inspect if self.body is not None else {}).get('Config') or {}).get('Labels')
        return Scope.of(labels, self.endpoint)

    def _check_container(self, identity: Identity) -> None:
        reason = self.body.refusal(self.services, identity.role) if self.body is not None else ''
        if reason:
            raise Forbidden(reason)

    def _refuse(self, refusal: Exception, *, retry: bool = False) -> None:
        session = self.session
        self._end_session()
        identity = self.identity or self.services.sessions.current(touch=False)
        self.services.audit.record(
            username=identity.username if identity else '(anonymous)',
            role=identity.role if identity else '',
            action=self.action,
            target=self.container_name,
            params=self._params(session),
            result=f'refused: {refusal}',
            address=identity.address if identity else '',
        )
        self._show(as_sentence(str(refusal), self.container_name, identity.username if identity else ''), alert=True)
        self.reconnect_button.set_visibility(retry)

    def _show(self, text: str, *, alert: bool = False) -> None:
        self.status.text = text
        self.status.props(f'role={"alert" if alert else "status"}')
        self.status.classes(add='text-negative' if alert else '', remove='' if alert else 'text-negative')

    async def _mounted_size(self) -> tuple[int, int] | None:
        """Rows and columns once the browser shows the terminal (a hidden tab mounts it only when opened)."""
        delay = 0.1
        while not self.is_deleted:
            try:
                size = await self.client.run_javascript(f'{HELPER}berthTerminal.ready({self.terminal.id})', timeout=5)
            except TimeoutError:
                size = None
            if isinstance(size, list) and len(size) == 2:
                self.size = (int(size[0]), int(size[1]))
                return self.size
            await asyncio.sleep(delay)
            delay = min(1.0, delay * 2)
        return None

    def _on_data(self, event: XtermDataEventArguments) -> None:
        session = self.session
        if session is not None and self._still_allowed():
            session.write(event.data)

    async def _on_resize(self, event: XtermResizeEventArguments) -> None:
        self.size = (event.rows, event.cols)
        session = self.session
        if session is not None and self._still_allowed():
            await run.io_bound(session.resize, event.rows, event.cols)

    def _still_allowed(self) -> bool:
        """Role and container are checked again on every keystroke and resize; a refusal ends the session."""
        try:
            self._check_container(self._authorize())
        except Forbidden as refusal:
            self._refuse(refusal)
            return False
        return True

    def _on_pause(self, output: TerminalOutput) -> None:
        if output is self.output:
            self._show(PAUSED)

    def _on_resume(self, output: TerminalOutput) -> None:
        if output is self.output:
            self._show(self._description)

    def _on_exit(self, session: ExecSession, code: int | None) -> None:
        how = f'exit code {code}' if code is not None else 'detached' if self.request.attach else 'exit code unknown'
        if session.started_at:
            self._audit(f'ended: {how} after {session.duration:.1f} s', session)
        if session is not self.session or self.is_deleted:
            return
        self._end_session(close=False)
        ended = f'session ended ({how})'
        if session.engine_gone:
            ended = f'session ended: {ENGINE_GONE}; reconnect once it is back'
        notice = json.dumps(f'\r\n[{ended}]\r\n')
        self.client.run_javascript(f'berthTerminal.write({self.terminal.id}, {notice})')
        self._end_with(f'{ended[:1].upper()}{ended[1:]}.')

    def _end_with(self, sentence: str) -> None:
        self._show(sentence)
        self.reconnect_button.set_visibility(True)

    def _params(self, session: ExecSession | None) -> dict[str, object]:
        command = ' '.join(session.command) if session is not None and session.command else self.request.command
        params: dict[str, object] = {
            'command': command or 'auto',
            'user': self.request.user,
            'workdir': self.request.workdir,
            'container_id': self.request.container_id[:12],
        }
        if session is not None and session.recorder is not None and session.started_at:
            params['recording'] = session.recorder.id  # the audit page links to the replay
        return params

    def _audit(self, result: str, session: ExecSession) -> None:
        identity = self.identity
        if identity is not None:
            self.services.audit.record(
                username=identity.username,
                role=identity.role,
                action=self.action,
                target=self.container_name,
                params=self._params(session),
                result=result,
                address=identity.address,
            )
