"""Recorded terminal sessions: ``/recordings`` lists them, ``/recordings/{id}`` replays one in an xterm (play, pause,
speed, seek) and ``/recordings/{id}.cast`` downloads the asciicast file. Admins reach every session; whoever else may
replay (operators) reaches only the sessions they opened. Every replay and download is audited."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import FileResponse, PlainTextResponse, Response
from nicegui import app, ui

from components.frame import frame, page_identity
from components.links import container_path
from core.permissions import Forbidden, Identity, Permission, require
from core.state.images import format_size
from core.streams.recording import RecordingInfo

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

WHAT = 'replay terminal sessions'
COLUMNS: list[dict[str, Any]] = [
    {'name': 'started', 'label': 'Started', 'field': 'started', 'sortable': True, 'align': 'left'},
    {'name': 'username', 'label': 'User', 'field': 'username', 'sortable': True, 'align': 'left'},
    {'name': 'container', 'label': 'Container', 'field': 'container', 'sortable': True, 'align': 'left'},
    {'name': 'endpoint', 'label': 'Host', 'field': 'endpoint', 'sortable': True, 'align': 'left'},
    {'name': 'command', 'label': 'Command', 'field': 'command', 'align': 'left'},
    {'name': 'size', 'label': 'Size', 'field': 'size', 'align': 'right'},
    {'name': 'replay', 'label': '', 'field': 'id', 'align': 'right'},
]
REPLAY_CELL = (
    '<q-td :props="props"><a :href="\'/recordings/\' + props.row.id" class="text-primary">Replay</a> · '
    '<a :href="\'/recordings/\' + props.row.id + \'.cast?download=1\'" class="text-primary">Download</a></q-td>'
)
SPEEDS = {0.5: '0.5×', 1.0: '1×', 2.0: '2×', 4.0: '4×', 8.0: '8×'}
# A small asciicast v2 player over the page's xterm: it fetches the .cast (same origin, the session cookie), writes
# output events at their times, applies resizes, and seeks by replaying everything up to the chosen time at once.
PLAYER = """window.berthPlayer = window.berthPlayer || {
  players: {},
  async load(termId, url, positionId, seekId) {
    const response = await fetch(url, {credentials: 'same-origin'});
    const text = await response.text();
    if (!response.ok) return {error: text.trim()};
    const lines = text.split('\\n').filter((line) => line.trim());
    let header;
    try { header = JSON.parse(lines[0]); } catch (error) { return {error: 'The recording cannot be read.'}; }
    const events = [];
    for (const line of lines.slice(1)) {
      try { const event = JSON.parse(line); if (Array.isArray(event) && event.length === 3) events.push(event); }
      catch (error) { /* a line cut short by a crash: skip it */ }
    }
    const view = getElement(termId);
    const player = {view, header, events, index: 0, time: 0, speed: 1, playing: false, timer: null, started: 0,
      positionId, seekId, duration: events.length ? events[events.length - 1][0] : 0, markers: []};
    this.players[termId] = player;
    this.reset(player);
    this.show(player);
    return {duration: player.duration, events: events.length};
  },
  reset(player) {
    const terminal = player.view.terminal;
    terminal.reset();
    terminal.resize(player.header.width || 80, player.header.height || 24);
    player.index = 0;
    player.time = 0;
  },
  apply(player, until) {
    let output = '';
    const terminal = player.view.terminal;
    while (player.index < player.events.length && player.events[player.index][0] <= until) {
      const [, kind, data] = player.events[player.index++];
      if (kind === 'o') output += data;
      else if (kind === 'r') {
        if (output) { terminal.write(output); output = ''; }
        const [cols, rows] = String(data).split('x').map(Number);
        if (cols > 0 && rows > 0) terminal.resize(cols, rows);
      } else if (kind === 'm') output += '\\r\\n[' + data + ']\\r\\n';
    }
    if (output) terminal.write(output);
    player.time = until;
  },
  tick(termId) {
    const player = this.players[termId];
    if (!player || !player.playing) return;
    const now = (performance.now() - player.started) * player.speed / 1000;
    this.apply(player, now);
    this.show(player);
    if (player.index >= player.events.length) {
      player.playing = false;
      player.time = player.duration;
      this.show(player);
      emitEvent('berth-player-ended', {term: termId});
      return;
    }
    const next = (player.events[player.index][0] - now) * 1000 / player.speed;
    player.timer = setTimeout(() => this.tick(termId), Math.max(0, Math.min(next, 250)));
  },
  play(termId) {
    const player = this.players[termId];
    if (!player) return false;
    if (player.index >= player.events.length) this.reset(player);
    player.playing = true;
    player.started = performance.now() - player.time * 1000 / player.speed;
    this.tick(termId);
    return true;
  },
  pause(termId) {
    const player = this.players[termId];
    if (!player) return false;
    player.playing = false;
    clearTimeout(player.timer);
    return false;
  },
  toggle(termId) {
    const player = this.players[termId];
    return player && player.playing ? this.pause(termId) : this.play(termId);
  },
  setSpeed(termId, speed) {
    const player = this.players[termId];
    if (!player) return;
    player.speed = speed;
    player.started = performance.now() - player.time * 1000 / speed;
  },
  seek(termId, fraction) {
    const player = this.players[termId];
    if (!player) return;
    const target = player.duration * fraction;
    if (target < player.time) this.reset(player);
    this.apply(player, target);
    player.started = performance.now() - target * 1000 / player.speed;
    this.show(player);
  },
  show(player) {
    const format = (seconds) => {
      const whole = Math.floor(seconds);
      return Math.floor(whole / 60) + ':' + String(whole % 60).padStart(2, '0');
    };
    const position = document.getElementById(player.positionId);
    if (position) position.textContent = format(player.time) + ' / ' + format(player.duration);
    const seek = document.getElementById(player.seekId);
    if (seek && document.activeElement !== seek) {
      seek.value = player.duration ? Math.round(1000 * player.time / player.duration) : 0;
    }
  },
};
"""


def register(services: Services) -> None:
    # before the replay page, whose {recording_id} would take 'ID.cast' too
    @app.get('/recordings/{recording_id}.cast')
    async def download_recording(request: Request, recording_id: str, download: int = 0) -> Response:
        try:
            identity = require(services.sessions.current(touch=False), Permission.RECORDING_READ, WHAT, None)
        except Forbidden as error:
            return PlainTextResponse(f'{str(error)[:1].upper()}{str(error)[1:]}.\n', status_code=403)
        info = await asyncio.to_thread(services.recordings.info, recording_id)
        path = services.recordings.path(recording_id)
        refusal = _refusal(identity, info)
        _audit(
            services, identity, 'recording.download' if download else 'recording.replay', info, recording_id, refusal
        )
        if refusal:
            return PlainTextResponse(f'{refusal}\n', status_code=403)
        if info is None or path is None:
            return PlainTextResponse('There is no such recording.\n', status_code=404)
        headers = {'Cache-Control': 'no-store'}
        disposition = 'attachment' if download else 'inline'
        return FileResponse(
            path,
            media_type='application/x-asciicast',
            headers={**headers, 'Content-Disposition': f'{disposition}; filename="{recording_id}.cast"'},
        )

    @ui.page('/recordings')
    async def recordings_page() -> None:
        identity = page_identity(services, Permission.RECORDING_READ, WHAT, own=True)
        if identity is None:
            return
        with frame(services, identity, 'Recordings'):
            with ui.row().classes('w-full items-center gap-3'):
                ui.label('Recorded terminal sessions').classes('text-h5')
                summary = ui.label().classes('text-caption')
            table = ui.table(columns=COLUMNS, rows=[], row_key='id', pagination={'rowsPerPage': 50})
            table.props('flat bordered dense wrap-cells').classes('w-full')
            table.add_slot('body-cell-replay', REPLAY_CELL)
            if not services.recordings.enabled:
                ui.label('Recording is off (BERTH_RECORD_TERMINALS=false).').classes('text-caption')
            recordings = await asyncio.to_thread(lambda: list(services.recordings.all()))
            readable = [info for info in recordings if identity.can(Permission.RECORDING_READ, info.scope)]
            table.rows = [_row(info) for info in readable]
            whose = '' if identity.can(Permission.RECORDING_READ) else ' (yours)'
            summary.text = f'{len(readable)} recordings{whose}, kept {services.recordings.days:g} days'

    @ui.page('/recordings/{recording_id}')
    async def replay_page(recording_id: str) -> None:
        identity = page_identity(services, Permission.RECORDING_READ, WHAT, own=True)
        if identity is None:
            return
        with frame(services, identity, 'Replay'):
            with ui.row().classes('w-full items-center gap-2'):
                ui.link('Recordings', '/recordings')
                ui.label('/')
                title = ui.label(recording_id).classes('text-h5')
            info = await asyncio.to_thread(services.recordings.info, recording_id)
            refusal = _refusal(identity, info)
            if info is None or refusal:  # the player's fetch of the file audits a replay that happens
                _audit(services, identity, 'recording.replay', info, recording_id, refusal)
                ui.label(refusal or 'There is no such recording (it may have been deleted after its retention).')
                return
            title.text = f'{info.container} · {info.username}'
            ui.label(_facts(info)).classes('text-caption')
            Player(info)


class Player(ui.column):
    """An xterm and its controls: Play/Pause, Speed, Seek, the position, Download."""

    def __init__(self, info: RecordingInfo) -> None:
        super().__init__()
        self.info = info
        self.classes('w-full gap-2')
        with self:
            with ui.row().classes('w-full items-center gap-2'):
                self.play_button = ui.button(icon='play_arrow', on_click=self.toggle).props(
                    'round dense aria-label="Play"'
                )
                self.seek = (
                    ui.element('input')
                    .props('type=range min=0 max=1000 value=0 step=1 aria-label="Seek"')
                    .classes('flex-grow')
                )
                self.position = ui.label('0:00 / 0:00').classes('font-mono text-caption').props('aria-label=Position')
                ui.select(SPEEDS, value=1.0, label='Speed', on_change=lambda e: self.set_speed(e.value)).props(
                    'dense outlined'
                ).classes('w-24')
                ui.button(
                    'Download',
                    icon='download',
                    on_click=lambda: ui.navigate.to(f'/recordings/{info.id}.cast?download=1'),
                ).props('flat dense no-caps')
            self.status = ui.label('Loading…').classes('text-caption').props('role=status')
            self.terminal = (
                ui.xterm({'fontSize': 14, 'scrollback': 5000, 'disableStdin': True})
                .classes('w-full')
                .props('data-berth-replay')
            )
        self.seek.on('input', js_handler=f'(e) => berthPlayer.seek({self.terminal.id}, e.target.value / 1000)')
        ui.on('berth-player-ended', self._ended)
        ui.timer(0.1, self.load, once=True)

    async def load(self) -> None:
        url = f'/recordings/{self.info.id}.cast'
        answer = await ui.run_javascript(
            f'{PLAYER}return await berthPlayer.load({self.terminal.id}, "{url}", "c{self.position.id}", '
            f'"c{self.seek.id}")',
            timeout=30,
        )
        if not isinstance(answer, dict) or answer.get('error'):
            error = answer.get('error') if isinstance(answer, dict) else 'the recording could not be loaded'
            self.status.text = str(error)
            self.status.props('role=alert')
            return
        self.status.text = f'{answer.get("events", 0)} events, {float(answer.get("duration") or 0):.1f} s'

    async def toggle(self) -> None:
        playing = await ui.run_javascript(f'berthPlayer.toggle({self.terminal.id})')
        self._show_playing(bool(playing))

    def set_speed(self, speed: float) -> None:
        ui.run_javascript(f'berthPlayer.setSpeed({self.terminal.id}, {float(speed)})')

    def _ended(self, event: Any) -> None:
        if (event.args or {}).get('term') == self.terminal.id:
            self._show_playing(False)

    def _show_playing(self, playing: bool) -> None:
        self.play_button.props(
            f'icon={"pause" if playing else "play_arrow"} aria-label="{"Pause" if playing else "Play"}"'
        )


def _refusal(identity: Identity, info: RecordingInfo | None) -> str:
    if info is None or identity.can(Permission.RECORDING_READ, info.scope):
        return ''
    return f'{identity.username} may replay only the terminal sessions they opened.'


def _audit(
    services: Services, identity: Identity, action: str, info: RecordingInfo | None, recording_id: str, refusal: str
) -> None:
    services.audit.record(
        username=identity.username,
        role=identity.role,
        action=action,
        target=info.container if info is not None else recording_id,
        params={'recording': recording_id, 'opened_by': info.username if info is not None else ''},
        result=f'refused: {refusal}' if refusal else ('succeeded' if info is not None else 'not found'),
        address=identity.address,
        endpoint=info.endpoint if info is not None else '',
    )


def _facts(info: RecordingInfo) -> str:
    started = time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(info.started_at))
    typed = 'typed input recorded' if info.input_recorded else 'typed input not recorded'
    return (
        f'{info.command} in {info.container} on {info.endpoint}, opened by {info.username} at {started}; '
        f'{info.width}×{info.height}, {format_size(info.size)}, {typed}'
    )


def _row(info: RecordingInfo) -> dict[str, Any]:
    return {
        'id': info.id,
        'started': time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(info.started_at)),
        'username': info.username,
        'container': info.container,
        'endpoint': info.endpoint,
        'command': info.command,
        'size': format_size(info.size),
        'link': container_path(info.container, info.endpoint),
    }
