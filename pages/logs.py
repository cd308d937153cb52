"""Container logs: /containers/{name-or-id}/logs, the merged /logs?project=… or ?containers=a,b, the whole-log
download, and ``logs_panel`` for the container page's Logs tab."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from nicegui import app, ui

from components.container_access import reach_refusal, reachable_row, sentence
from components.frame import frame, on_client_delete, page_identity
from components.hosts import chosen_host, several_hosts
from components.links import HOSTS, container_path, on_host
from components.log_render import plain_text
from components.log_text import log_filename
from components.log_view import WHOLE_LOG_PATH, LogView
from core.permissions import LOCAL_ENDPOINT, Forbidden, Identity, Permission, Scope, require
from core.state.containers import ContainerRow
from core.state.model import ChangeKind, StateChange
from core.streams.log_decode import LogLine
from core.streams.log_reader import whole_log

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

DOWNLOAD_CHUNK = 64 * 1024
WHAT = 'read logs'


def register(services: Services) -> None:
    """Adds the log pages and the whole-log download route."""

    @ui.page('/containers/{name_or_id}/logs')
    @ui.page(HOSTS + '/containers/{name_or_id}/logs')
    async def container_logs_page(name_or_id: str, endpoint: str = LOCAL_ENDPOINT) -> None:
        identity = page_identity(services, Permission.CONTAINER_LOGS, WHAT, own=True)
        if identity is None:
            return
        await services.state.first_sync(endpoint=endpoint)
        with frame(services, identity, f'Logs · {name_or_id}'):
            with ui.row().classes('w-full items-center gap-2'):
                ui.link('Containers', '/containers')
                ui.label('/')
                row = reachable_row(
                    services, identity, Permission.CONTAINER_LOGS, WHAT, name_or_id, endpoint, action='logs.follow'
                )
                if row is None:
                    return
                ui.link(row.name, container_path(row.name, row.endpoint)).classes('text-h5')
                ui.label('/ Logs').classes('text-h5')
            if _readable(services, identity, [row]):
                LogView(services, [row.name], endpoint=row.endpoint)

    @ui.page('/logs')
    def merged_logs_page(project: str = '', containers: str = '', endpoint: str = '') -> None:
        """``?project=``: the project's containers on ``endpoint``, else on the host chosen in the switcher, else on
        every host the person may read logs on (each line then labelled with its host); ``?containers=`` on one host."""
        identity = page_identity(services, Permission.CONTAINER_LOGS, WHAT, own=True)
        if identity is None:
            return
        with frame(services, identity, f'Logs · {project}' if project else 'Logs'):
            hosts = _log_hosts(services, identity, endpoint or chosen_host(services)) if project else [endpoint]
            endpoint = endpoint or LOCAL_ENDPOINT
            rows = _project_rows(services, project, hosts) if project else _named_rows(services, containers, endpoint)
            several = len({row.endpoint for row in rows}) > 1 or (project != '' and len(hosts) > 1)
            title = f'Logs of compose project {project}' if project else 'Logs of several containers'
            where = on_host(hosts[0]) if project and len(hosts) == 1 and several_hosts(services) else ''
            ui.label(title + where).classes('text-h5')
            if not rows:
                ui.label(
                    f'No containers in compose project "{project}".'
                    if project
                    else 'Name the containers: /logs?containers=first,second or /logs?project=NAME.'
                )
                return
            missing = (
                [] if project else [name for name in _split(containers) if services.state.find(name, endpoint) is None]
            )
            if missing:
                ui.label(f'Not found, so not shown: {", ".join(missing)}.').classes('text-warning')
            if not _readable(services, identity, rows):
                return
            targets = [(row.endpoint, row.name) for row in rows]
            view = LogView(services, [], tagged=True, targets=targets, label_hosts=several)
            if project:
                _follow_new_members(services, view, project, hosts)

    @app.get(WHOLE_LOG_PATH)
    async def download_whole_log(
        request: Request, containers: str = '', timestamps: int = 1, endpoint: str = LOCAL_ENDPOINT
    ) -> Response:
        """The whole log, streamed from the daemon as it is read (a worker thread iterates it), never held in memory."""
        try:
            identity = require(services.sessions.current(touch=False), Permission.CONTAINER_LOGS, WHAT, None)
        except Forbidden as error:
            return PlainTextResponse(f'{sentence(str(error))}\n', status_code=403)
        rows = _named_rows(services, containers, endpoint)
        target = ', '.join(row.name for row in rows) or containers
        refusal = reach_refusal(
            services, identity, Permission.CONTAINER_LOGS, WHAT, rows or [None], action='logs.download', target=target
        )
        if refusal:
            return PlainTextResponse(f'{refusal}\n', status_code=403)
        if not rows:
            return PlainTextResponse('No such containers.\n', status_code=404)
        refusal = services.protection.read_refusal(identity.role, rows, 'logs')
        if refusal:
            services.audit.record(
                username=identity.username,
                role=identity.role,
                action='logs.download',
                target=', '.join(row.name for row in rows),
                params={'scope': 'whole'},
                result=f'refused: {refusal}',
                address=identity.address,
            )
            return PlainTextResponse(f'{refusal[:1].upper()}{refusal[1:]}.\n', status_code=403)
        names = [row.name for row in rows]
        address = request.client.host if request.client is not None else ''
        services.audit.record(
            username=identity.username,
            role=identity.role,
            action='logs.download',
            target=', '.join(names),
            params={'scope': 'whole', 'timestamps': bool(timestamps)},
            result='succeeded',
            address=address,
        )
        lines = whole_log(services.endpoints.get(endpoint), [(row.id, row.name) for row in rows])
        return StreamingResponse(
            _as_text(lines, timestamps=bool(timestamps), tagged=len(rows) > 1),
            media_type='text/plain; charset=utf-8',
            headers={'Content-Disposition': f'attachment; filename="{log_filename(names)}"'},
        )


def logs_panel(services: Services, container_id: str) -> None:
    """The content of the container page's Logs tab; streams open only once the tab is shown."""
    row = services.state.containers.get(container_id) or services.state.find(container_id)
    if row is None:
        ui.label('This container no longer exists.')
        return
    identity = services.sessions.current()
    if identity is not None and _readable(services, identity, [row]):
        LogView(services, [row.name], endpoint=row.endpoint).classes('w-full')


def _readable(services: Services, identity: Identity, rows: list[ContainerRow]) -> bool:
    """The page-level answer for other people's containers (audited) and Berth's own (the view checks again whenever a
    stream opens)."""
    target = ', '.join(row.name for row in rows)
    refusal = reach_refusal(
        services, identity, Permission.CONTAINER_LOGS, WHAT, rows, action='logs.follow', target=target
    )
    if refusal:
        ui.label(refusal).props('role=alert')
        return False
    refusal = services.protection.read_refusal(identity.role, rows, 'logs')
    if refusal:
        ui.label(f'{refusal[:1].upper()}{refusal[1:]}.').props('role=alert')
    return not refusal


def _split(names: str) -> list[str]:
    return [name.strip() for name in names.split(',') if name.strip()]


def _named_rows(services: Services, names: str, endpoint: str = LOCAL_ENDPOINT) -> list[ContainerRow]:
    rows = [services.state.find(name, endpoint) for name in _split(names)]
    unique = {row.id: row for row in rows if row is not None}
    return list(unique.values())


def _log_hosts(services: Services, identity: Identity, endpoint: str | None) -> list[str]:
    """The hosts a project's logs are gathered from: the one asked for, else every host whose logs the person may
    read (some of them)."""
    if endpoint:
        return [endpoint]
    own = identity.owner_id
    return [
        host
        for host in services.endpoints.ids
        if identity.can(Permission.CONTAINER_LOGS, Scope(endpoint=host, owner=own))  # its own there, at least
    ]


def _project_rows(services: Services, project: str, hosts: list[str]) -> list[ContainerRow]:
    members = [row for row in services.state.containers.values() if row.project == project and row.endpoint in hosts]
    return sorted(members, key=lambda row: (hosts.index(row.endpoint), row.name))


def _follow_new_members(services: Services, view: LogView, project: str, hosts: list[str]) -> None:
    def on_state(change: StateChange) -> None:
        row = services.state.containers.get(change.container_id) if change.kind == ChangeKind.UPSERT else None
        if row is not None and row.project == project and row.endpoint in hosts:
            view.follow_also(row.name, row.endpoint)
        elif change.kind == ChangeKind.RESET:
            for member in _project_rows(services, project, hosts):
                view.follow_also(member.name, member.endpoint)

    on_client_delete(services.state.subscribe(on_state))


def _as_text(lines: Iterator[LogLine], *, timestamps: bool, tagged: bool) -> Iterator[bytes]:
    """Lines → bytes in chunks of about 64 KB (the response is read in a worker thread, line by line would crawl)."""
    try:
        chunk: list[str] = []
        size = 0
        for line in lines:
            text = plain_text(line, timestamps=timestamps, tagged=tagged)
            chunk.append(text)
            size += len(text) + 1
            if size >= DOWNLOAD_CHUNK:
                yield ('\n'.join(chunk) + '\n').encode()
                chunk, size = [], 0
        if chunk:
            yield ('\n'.join(chunk) + '\n').encode()
    finally:
        close = getattr(lines, 'close', None)
        if close is not None:
            close()
