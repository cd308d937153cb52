"""CreateForm: every field of a new container; errors are shown under the field they are about."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from core.commands.spec import RESTART_POLICIES, ContainerSpec, SpecError
from core.commands.spec_form import spec_from_form

from .image_dialogs import reference_problem

# spec / policy field → form field, where the names differ
FORM_FIELD = {'pid_mode': 'pid_host', 'ipc_mode': 'ipc_host', 'restart_retries': 'restart_policy', 'spec': 'image'}


class CreateForm(ui.column):
    """Lays out the fields; :meth:`spec` returns the parsed spec or marks the wrong fields and returns None."""

    def __init__(self, *, image: str, local_tags: list[str], networks: list[str], admin: bool) -> None:
        super().__init__()
        self.classes('w-full gap-2 max-w-4xl')
        self.fields: dict[str, Any] = {}
        with self:
            with ui.row().classes('w-full gap-2'):
                self._input(
                    'image',
                    'Image',
                    value=image,
                    autocomplete=local_tags,
                    validation=reference_problem,
                    classes='grow',
                    placeholder='berth-test/busybox:latest',
                )
                self._input('name', 'Name (optional)', placeholder='web')
            self._input('command', 'Command (optional)', classes='w-full', placeholder='sh -c "echo hello; sleep 600"')
            with ui.row().classes('w-full gap-2 no-wrap'):
                self._textarea('environment', 'Environment (NAME=value per line)', 'GREETING=hello')
                self._textarea('labels', 'Labels (name=value per line)', 'team=blue')
            with ui.row().classes('w-full gap-2 no-wrap'):
                self._textarea('ports', 'Published ports ([ip:]host:container[/proto])', '8080:80\n53/udp')
                self._textarea(
                    'mounts',
                    'Volumes and bind mounts (source:/path[:ro])',
                    'data:/var/lib/data\n/srv/site:/usr/share/site:ro',
                )
            with ui.row().classes('w-full gap-2 items-start'):
                self.fields['restart_policy'] = ui.select(
                    list(RESTART_POLICIES), value='no', label='Restart policy'
                ).classes('w-44')
                self._input('restart_retries', 'Max retries (on-failure)', classes='w-44')
                self._input('memory', 'Memory limit', placeholder='512m')
                self._input('cpus', 'CPU limit', placeholder='0.5')
                choices = [name for name in networks if admin or name != 'host']
                self.fields['network'] = ui.select(['', *choices], value='', label='Network (default bridge)').classes(
                    'w-56'
                )
            with ui.row().classes('w-full gap-4'):
                for name, label, value in (
                    ('auto_remove', 'Remove when it exits', False),
                    ('tty', 'TTY', False),
                    ('stdin_open', 'Keep stdin open', False),
                    ('start', 'Start after create', True),
                ):
                    self.fields[name] = ui.checkbox(label, value=value)
            with ui.expansion('Privileges and host access (admin only)', icon='admin_panel_settings').classes('w-full'):
                if not admin:
                    ui.label('Only an admin can ask for these; the panel refuses them for other roles.').classes(
                        'text-caption'
                    )
                with ui.row().classes('w-full gap-4 items-start'):
                    for name, label in (
                        ('privileged', 'Privileged'),
                        ('pid_host', 'Host PID namespace'),
                        ('ipc_host', 'Host IPC namespace'),
                    ):
                        self.fields[name] = ui.checkbox(label).props('' if admin else 'disable')
                    self._input('cap_add', 'Add capabilities', placeholder='NET_ADMIN, SYS_TIME', disabled=not admin)
                    self._input('devices', 'Devices', placeholder='/dev/fuse', disabled=not admin)
                with ui.row().classes('w-full gap-2 no-wrap'):
                    self._input('volume_driver', 'Volume driver', placeholder='local', disabled=not admin)
                    self._textarea(
                        'volume_driver_options',
                        'Volume driver options (name=value per line)',
                        'type=nfs',
                        disabled=not admin,
                    )

    def _input(
        self, name: str, label: str, *, value: str = '', classes: str = 'w-56', disabled: bool = False, **options: Any
    ) -> None:
        element = ui.input(label, value=value, **options).classes(classes).props(f'aria-label="{label}"')
        if disabled:
            element.disable()
        self.fields[name] = element

    def _textarea(self, name: str, label: str, placeholder: str, *, disabled: bool = False) -> None:
        element = ui.textarea(label, placeholder=placeholder).classes('grow').props(f'rows=3 aria-label="{label}"')
        if disabled:
            element.disable()
        self.fields[name] = element

    def values(self) -> dict[str, Any]:
        return {name: element.value for name, element in self.fields.items()}

    def spec(self) -> ContainerSpec | None:
        """The spec, or None after putting each error under its field."""
        self.clear_errors()
        try:
            return spec_from_form(self.values())
        except SpecError as error:
            self.show_errors(error.errors)
            return None

    def show_errors(self, errors: dict[str, str]) -> None:
        for name, message in errors.items():
            element = self.fields.get(FORM_FIELD.get(name, name)) or self.fields['image']
            text = f'{message[:1].upper()}{message[1:]}'
            if hasattr(element, 'error'):
                element.error = text
            else:  # checkboxes have no error slot: say it next to them
                ui.notify(text, type='negative')

    def clear_errors(self) -> None:
        for element in self.fields.values():
            if hasattr(element, 'error') and element.validation is None:
                element.error = None
