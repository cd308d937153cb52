"""Dialogs that ask before a network changes: create (every field checked as it is typed), remove, prune (the exact
list), disconnect. Names from the engine are shown as text (ui.label), never as HTML."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from core.commands.network_spec import NetworkSpec
from core.commands.spec_form import parse_pairs
from core.state.networks import NetworkRow

from .image_dialogs import AskingDialog

OnCreate = Callable[[dict[str, Any]], Awaitable[str | None]]  # the form's values → None, or the sentence to show
FIELDS = (
    ('name', 'Name', 'backend'),
    ('subnet', 'Subnet', '10.213.1.0/24 (empty: the engine picks one)'),
    ('gateway', 'Gateway', '10.213.1.1'),
    ('ip_range', 'IP range', '10.213.1.128/25'),
)


def sentence(text: str) -> str:
    return f'{text[:1].upper()}{text[1:]}'


class NewNetworkDialog(AskingDialog):
    """Name, Internal, Attachable, Subnet, Gateway, IP range, Labels; each field says what is wrong as it is typed,
    and ``on_create`` is called only with a form that passes. Answers True once the network was asked for."""

    def __init__(self, on_create: OnCreate) -> None:
        super().__init__()
        self.on_create = on_create
        self.inputs: dict[str, ui.input] = {}
        with self, ui.card().classes('gap-1 w-[32rem] max-w-full').props('role=dialog aria-label="New network"'):
            ui.label('New bridge network').classes('text-h6')
            for key, label, placeholder in FIELDS:
                self.inputs[key] = (
                    ui.input(label, placeholder=placeholder, validation=self.validator(key))
                    .props(f'aria-label="{label}" autocomplete=off')
                    .classes('w-full')
                )
            self.labels = (
                ui.textarea(
                    'Labels', placeholder='team=backend (one per line)', validation=lambda _: self.problem('labels')
                )
                .props('aria-label="Labels" rows=2')
                .classes('w-full')
            )
            with ui.row().classes('gap-4'):
                self.internal = ui.checkbox('Internal (no route out)')
                self.attachable = ui.checkbox('Attachable')
            self.error = ui.label().classes('text-negative').props('role=alert')
            self.error.set_visibility(False)
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                self.create = (
                    ui.button('Create', on_click=self._create)
                    .props('aria-label="Create network"')
                    .mark('create-network')
                )

    def values(self) -> dict[str, Any]:
        return {
            **{key: str(field.value or '').strip() for key, field in self.inputs.items()},
            'labels': str(self.labels.value or ''),
            'internal': bool(self.internal.value),
            'attachable': bool(self.attachable.value),
        }

    def validator(self, key: str) -> Callable[[Any], str | None]:
        return lambda _: self.problem(key)

    def problem(self, key: str) -> str | None:
        """The sentence for one field, from the whole form (a gateway is checked against the subnet)."""
        values = self.values()
        try:
            labels = parse_pairs(values['labels'], 'label')
        except ValueError as error:
            return sentence(str(error)) if key == 'labels' else None
        spec = NetworkSpec(
            name=values['name'],
            subnet=values['subnet'],
            gateway=values['gateway'],
            ip_range=values['ip_range'],
            labels=labels,
        )
        found = spec.problems().get(key)
        return sentence(found) if found else None

    async def _create(self) -> None:
        checks = [field.validate() for field in (*self.inputs.values(), self.labels)]
        if not all(checks):
            return
        self.create.props('loading')
        try:
            values = self.values()
            values['labels'] = parse_pairs(values['labels'], 'label')
            error = await self.on_create(values)
        finally:
            self.create.props(remove='loading')
        if error:
            self.error.text = error
            self.error.set_visibility(True)
            return
        self.submit(True)


class RemoveNetworkDialog(AskingDialog):
    """Asks before removing a network; names the containers still connected (the panel refuses while there are)."""

    def __init__(self, network: NetworkRow, connected: list[str]) -> None:
        super().__init__()
        with self, ui.card().classes('gap-2').props('role=dialog aria-label="Remove network"'):
            ui.label(f'Remove the network {network.name}?').classes('text-h6 break-all')
            facts = [network.driver, ', '.join(network.subnets), 'internal' if network.internal else '']
            ui.label(' · '.join(fact for fact in facts if fact)).classes('text-body2 break-all')
            if connected:
                ui.label(
                    f"Still connected: {', '.join(connected)}. Disconnect them first (on the network's page)."
                ).classes('text-warning break-all')
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                ui.button('Remove', color='negative', on_click=lambda: self.submit(True)).props(
                    'aria-label="Confirm remove"'
                ).mark('confirm-remove')


class PruneNetworksDialog(AskingDialog):
    """Lists exactly the networks a prune removes; answers with their ids."""

    def __init__(self, networks: list[NetworkRow]) -> None:
        super().__init__()
        count = len(networks)
        with self, ui.card().classes('gap-2 w-[36rem] max-w-full').props('role=dialog aria-label="Prune networks"'):
            ui.label(f'Remove {count} unused network{"s" if count != 1 else ""}?').classes('text-h6')
            ui.label("No container, running or stopped, is connected to these; the engine's own stay.").classes(
                'text-body2'
            )
            with ui.scroll_area().classes('w-full h-48 border'), ui.column().classes('gap-1').props('role=list'):
                for network in networks:
                    with ui.row().classes('w-full no-wrap gap-3').props('role=listitem'):
                        ui.label(network.name).classes('grow break-all')
                        ui.label(', '.join(network.subnets)).classes('font-mono text-sm')
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                ui.button(
                    'Confirm', color='negative', on_click=lambda: self.submit([network.id for network in networks])
                ).props('aria-label="Confirm prune"').mark('confirm-prune')


class DisconnectDialog(AskingDialog):
    """Asks before disconnecting a container; offers 'force'. Answers {'force': bool} or None."""

    def __init__(self, container: str, network: str) -> None:
        super().__init__()
        with self, ui.card().classes('gap-2').props('role=dialog aria-label="Disconnect container"'):
            ui.label(f'Disconnect {container} from {network}?').classes('text-h6 break-all')
            self.force = ui.checkbox('Force (even if the engine considers the endpoint in use)')
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                ui.button('Disconnect', on_click=lambda: self.submit({'force': bool(self.force.value)})).props(
                    'aria-label="Confirm disconnect"'
                ).mark('confirm-disconnect')
