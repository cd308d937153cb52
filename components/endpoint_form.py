"""The dialog admins add or change a Docker host with: id, name, URL, the TLS material (pasted PEM, never shown again),
and the confirmation plain TCP needs. ``save`` answers a sentence when the endpoint is refused (bad input, the
connection test failed), or None when it was saved."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from components.image_dialogs import AskingDialog
from core.docker.endpoint_spec import PLAIN_TCP_RISK
from core.docker.endpoints import Endpoint

Save = Callable[[dict[str, object]], Awaitable[str | None]]


class EndpointDialog(AskingDialog):
    def __init__(self, endpoint: Endpoint | None, save: Save) -> None:
        super().__init__()
        self.save = save
        label = 'Edit host' if endpoint else 'New host'
        with self, ui.card().classes('gap-2 w-[40rem]').props(f'role=dialog aria-label="{label}"'):
            ui.label(f'Edit {endpoint.name}' if endpoint else 'New Docker host').classes('text-h6 break-all')
            self.endpoint_id = ui.input('Id', value=endpoint.id if endpoint else '').classes('w-full')
            self.endpoint_id.props('aria-label="Id" hint="in URLs and job queues: lower-case letters, digits, -"')
            if endpoint is not None:
                self.endpoint_id.disable()
            self.name = ui.input('Name', value=endpoint.name if endpoint else '').props('aria-label="Name"')
            self.name.classes('w-full')
            self.url = ui.input(
                'URL', value=(endpoint.url or '') if endpoint else '', placeholder='tcp://build.example:2376'
            ).props('aria-label="URL" hint="unix:///path/docker.sock, tcp://host:2376 (mutual TLS) or ssh://user@host"')
            self.url.classes('w-full')
            keep = ' (empty: keep the stored one)' if endpoint is not None and endpoint.tls is not None else ''
            self.ca = self._pem(f'CA certificate{keep}')
            self.cert = self._pem(f'Client certificate{keep}')
            self.key = self._pem(f'Client key{keep}')
            keep_key = ' (empty: keep the stored one)' if endpoint is not None and endpoint.ssh_key else ''
            self.ssh_key = self._pem(f'SSH private key{keep_key}')
            self.known_hosts = ui.textarea(
                'Known host key (ssh-keyscan line)', value=endpoint.known_hosts if endpoint else ''
            ).props('aria-label="Known host key" autogrow input-class="font-mono text-xs"')
            self.known_hosts.classes('w-full')
            self.insecure = ui.checkbox(
                'Plain TCP without TLS: I understand that it gives root on that host to anyone who can reach the port',
                value=bool(endpoint and endpoint.insecure),
            ).props(f'aria-label="Accept plain TCP" title="{PLAIN_TCP_RISK}"')
            self.error = ui.label().classes('text-negative').props('role=alert')
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                self.button = ui.button('Test and save', on_click=self._save).props('aria-label="Test and save"')

    @staticmethod
    def _pem(label: str) -> ui.textarea:
        area = ui.textarea(label).props(f'aria-label="{label}" autogrow input-class="font-mono text-xs"')
        area.classes('w-full')
        return area

    async def _save(self) -> None:
        self.error.text = 'Testing the connection…'
        self.button.props('loading')
        try:
            problem = await self.save(
                {
                    'endpoint_id': self.endpoint_id.value or '',
                    'name': self.name.value or '',
                    'url': self.url.value or '',
                    'ca': self.ca.value or '',
                    'cert': self.cert.value or '',
                    'key': self.key.value or '',
                    'insecure': bool(self.insecure.value),
                    'ssh_key': self.ssh_key.value or '',
                    'known_hosts': self.known_hosts.value or '',
                }
            )
        finally:
            self.button.props(remove='loading')
        if problem:
            self.error.text = problem
            return
        self.error.text = ''
        self.submit(True)
