"""/admin/endpoints: the Docker hosts — list with each one's status, add, edit, remove — for admins (checked on load
and in every handler), audited. A host is saved only after its connection test answers; TLS material is stored
sealed with the panel's key and never shown again. Hosts from the settings (DOCKER_HOST, BERTH_ENDPOINTS) are listed
but changed only there."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import run, ui

from components.admin_view import AdminView
from components.container_access import sentence
from components.endpoint_form import EndpointDialog
from components.frame import frame, on_client_delete, page_identity
from components.hosts import status_text
from components.image_dialogs import AskingDialog
from core.docker.endpoint_spec import EndpointError
from core.docker.endpoint_store import ProbeFailed, endpoint_from_form, probe
from core.docker.endpoints import Endpoint, EndpointSource
from core.permissions import LOCAL_ENDPOINT, Permission
from core.state.model import ChangeKind, StateChange

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services

WHAT = 'manage Docker hosts'
COLUMNS: list[dict[str, Any]] = [
    {'name': name, 'label': label, 'field': name, 'align': 'left'}
    for name, label in (
        ('id', 'Id'),
        ('name', 'Name'),
        ('url', 'URL'),
        ('kind', 'Connection'),
        ('status', 'Status'),
        ('source', 'Source'),
        ('actions', ''),
    )
]
ACTIONS_CELL = (
    '<q-td :props="props" class="text-right"><template v-if="props.row.editable">'
    '<q-btn flat round dense icon="edit" :aria-label="\'Edit \' + props.row.id" title="Edit" '
    '@click="() => $parent.$emit(\'edit\', props.row.id)" />'
    '<q-btn flat round dense icon="delete" color="negative" :aria-label="\'Remove \' + props.row.id" title="Remove" '
    '@click="() => $parent.$emit(\'remove\', props.row.id)" />'
    '</template></q-td>'
)
KINDS = {'socket': 'Unix socket', 'tls': 'TCP, mutual TLS', 'tcp': 'plain TCP (no TLS)', 'ssh': 'SSH'}


def register(services: Services) -> None:
    @ui.page('/admin/endpoints')
    def endpoints_page() -> None:
        identity = page_identity(services, Permission.ENDPOINTS_MANAGE, WHAT)
        if identity is None:
            return
        with frame(services, identity, 'Hosts'):
            EndpointsView(services)


class EndpointsView(AdminView):
    permission = Permission.ENDPOINTS_MANAGE
    what = WHAT

    def __init__(self, services: Services) -> None:
        self.services = services
        with ui.row().classes('w-full items-center gap-3'):
            ui.label('Docker hosts').classes('text-h5')
            ui.space()
            ui.button('New host', icon='add', on_click=lambda: self.edit(None)).props('no-caps aria-label="New host"')
        ui.label(
            'Each host is a Docker engine Berth watches and runs jobs on: a Unix socket, TCP with mutual TLS, or SSH. '
            'A host is saved only once its connection test answers; certificates and keys are stored encrypted and '
            'never shown again.'
        ).classes('text-caption')
        self.table = ui.table(columns=COLUMNS, rows=[], row_key='id').props('flat bordered dense wrap-cells')
        self.table.classes('w-full')
        self.table.add_slot('body-cell-actions', ACTIONS_CELL)
        self.table.on('edit', lambda event: self.edit(str(event.args)))
        self.table.on('remove', lambda event: self.remove(str(event.args)))
        self.render()
        on_client_delete(services.state.subscribe(self.on_state))

    def on_state(self, change: StateChange) -> None:
        if change.kind == ChangeKind.ENGINE:
            self.render()

    def render(self) -> None:
        self.table.rows = [self._row(endpoint) for endpoint in self.services.endpoints]

    def _row(self, endpoint: Endpoint) -> dict[str, Any]:
        try:
            kind = KINDS[endpoint.kind]
        except EndpointError:
            kind = '?'
        return {
            'id': endpoint.id,
            'name': endpoint.name,
            'url': endpoint.address,
            'kind': kind,
            'status': status_text(self.services.state.hosts.get(endpoint.id)),
            'source': 'this page' if endpoint.source == EndpointSource.STORED else 'settings',
            'editable': endpoint.source == EndpointSource.STORED,
        }

    async def edit(self, endpoint_id: str | None) -> None:
        if self._admin('endpoint.save', endpoint_id or '') is None:
            return
        previous = self.services.endpoints.get(endpoint_id) if endpoint_id else None
        if previous is not None and previous.source != EndpointSource.STORED:
            ui.notify(f'Host {previous.id} comes from the settings: change it there.', type='warning')
            return
        if await EndpointDialog(previous, lambda fields: self.save(fields, previous)).ask():
            self.render()

    async def save(self, fields: dict[str, Any], previous: Endpoint | None) -> str | None:
        """The sentence that refuses the endpoint, or None once it was tested, saved, watched and audited."""
        admin = self._admin('endpoint.save', str(fields.get('endpoint_id', '')))
        if admin is None:
            return 'Only admins manage Docker hosts.'
        try:
            endpoint = endpoint_from_form(previous=previous, **fields)
        except EndpointError as error:
            return sentence(error)
        if previous is None and endpoint.id in self.services.endpoints:
            return f'There is already a host with the id {endpoint.id}.'
        try:
            found = await run.io_bound(probe, endpoint)
        except ProbeFailed as error:
            self._audit(admin, 'endpoint.save', endpoint.id, f'refused: {error}', _params(endpoint))
            return f'Not saved: {error}.'
        if found is None:  # the app is stopping
            return 'The panel is stopping.'
        twin = next(
            (
                status.endpoint
                for status in self.services.state.hosts.values()
                if status.endpoint != endpoint.id and found.engine_id and status.engine_id == found.engine_id
            ),
            None,
        )
        if twin is not None:  # its containers would be listed twice, and jobs could run on either
            return f'Not saved: that is the engine of the host {twin} already.'
        await run.io_bound(self.services.stored_endpoints.save, endpoint, admin.username)
        await run.io_bound(self.services.endpoints.put, endpoint)
        self._audit(admin, 'endpoint.save', endpoint.id, f'succeeded: {found.sentence}', _params(endpoint))
        ui.notify(f'Saved {endpoint.name}: {found.sentence}.', type='positive')
        return None

    async def remove(self, endpoint_id: str) -> None:
        if self._admin('endpoint.remove', endpoint_id) is None:
            return
        if endpoint_id == LOCAL_ENDPOINT or endpoint_id not in self.services.endpoints:
            ui.notify('That host cannot be removed here.', type='warning')
            return
        if not await ConfirmRemoveEndpoint(endpoint_id).ask():
            return
        admin = self._admin('endpoint.remove', endpoint_id)
        if admin is None:
            return
        await run.io_bound(self.services.stored_endpoints.delete, endpoint_id)
        await run.io_bound(self.services.endpoints.remove, endpoint_id)
        self._audit(admin, 'endpoint.remove', endpoint_id, 'succeeded')
        self.render()

    def _audit_endpoint(self, target: str) -> str:
        return target


def _params(endpoint: Endpoint) -> dict[str, Any]:
    """What the audit log keeps of an endpoint: never its key material."""
    return {
        'name': endpoint.name,
        'url': endpoint.url,
        'tls': endpoint.tls is not None,
        'ssh_key': bool(endpoint.ssh_key),
        'insecure': endpoint.insecure,
    }


class ConfirmRemoveEndpoint(AskingDialog):
    def __init__(self, endpoint_id: str) -> None:
        super().__init__()
        with self, ui.card().classes('gap-2').props('role=dialog aria-label="Remove host"'):
            ui.label(f'Remove the host {endpoint_id}?').classes('text-h6 break-all')
            ui.label('Berth stops watching it; its containers keep running.').classes('text-body2')
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                ui.button('Remove', color='negative', on_click=lambda: self.submit(True)).props(
                    'aria-label="Confirm remove"'
                )
