"""EnvironmentCard: one dev environment — name, template, state, uptime, CPU and memory now, idle time left (or that it
was stopped for idleness), owner — and its actions, whose accessible names are exactly: Open terminal, Start, Stop,
Restart, Delete, Logs (and Hand over, for admins). Updated in place from the live state, the usage sampler and the idle
watch; every text from the engine is a label, never HTML."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from core.container_actions import CONTAINER_ACTIONS, ContainerAction
from core.environments.environment import Environment
from core.environments.idle import Idleness
from core.streams.usage import Usage

from .container_table import usage_cells

OnAction = Callable[[str, Environment], Awaitable[None]]  # (action, environment)
LIFECYCLE = (ContainerAction.START, ContainerAction.STOP, ContainerAction.RESTART)
STATE_COLORS = {'running': 'positive', 'paused': 'warning', 'restarting': 'info', 'exited': 'grey', 'dead': 'negative'}


class EnvironmentCard(ui.card):
    def __init__(self, environment: Environment, on_action: OnAction, *, owner: str, hand_over: bool) -> None:
        super().__init__()
        self.environment = environment
        self.on_action = on_action
        self.classes('w-80 gap-1').props(f'role=region aria-label="Environment {environment.name}"')
        with self:
            with ui.row().classes('w-full items-center no-wrap gap-2'):
                ui.label(environment.name).classes('text-h6 break-all grow')
                self.state = ui.badge()
            self.facts = ui.label().classes('text-caption break-all')
            self.usage = ui.label().classes('text-caption').mark(self._marker('usage'))
            self.idle = ui.label().classes('text-caption').mark(self._marker('idle'))
            self.owner = ui.label().classes('text-caption break-all')
            self.owner.set_visibility(bool(owner))
            with ui.row().classes('w-full gap-1 items-center'):
                self.terminal = (
                    ui.button(
                        'Open terminal', icon='terminal', on_click=lambda: self.on_action('terminal', self.environment)
                    )
                    .props('dense no-caps aria-label="Open terminal"')
                    .mark(self._marker('open-terminal'))
                )
                self.buttons: dict[str, ui.button] = {}
                for action in LIFECYCLE:
                    spec = CONTAINER_ACTIONS[action]
                    self.buttons[action.value] = (
                        ui.button(
                            icon=spec.icon,
                            on_click=lambda action=action: self.on_action(action.value, self.environment),
                        )
                        .props(f'flat round dense aria-label="{spec.label}" title="{spec.label}"')
                        .mark(self._marker(action.value))
                    )
                ui.button(icon='article', on_click=lambda: self.on_action('logs', self.environment)).props(
                    'flat round dense aria-label="Logs" title="Logs"'
                ).mark(self._marker('logs'))
                if hand_over:
                    ui.button(icon='move_up', on_click=lambda: self.on_action('hand_over', self.environment)).props(
                        'flat round dense aria-label="Hand over" title="Hand over"'
                    ).mark(self._marker('hand-over'))
                ui.button(icon='delete', on_click=lambda: self.on_action('delete', self.environment)).props(
                    'flat round dense color=negative aria-label="Delete" title="Delete"'
                ).mark(self._marker('delete'))
        self.show(environment, owner)

    def _marker(self, action: str) -> str:
        """For tests: the action alone, and the action of this environment (``stop-work``)."""
        return f'{action} {action}-{self.environment.name}'

    def show(
        self, environment: Environment, owner: str, *, idle: Idleness | None = None, stopped_idle: str = ''
    ) -> None:
        """The environment as the state has it now (state, uptime, which actions apply), where it stands with its idle
        timeout while running, and ``stopped_idle`` (the idle stop's sentence) when that is why it is stopped."""
        self.environment = environment
        row = environment.row
        self.idle.text = idle_text(idle) if row.state == 'running' else stopped_idle
        self.idle.set_visibility(bool(self.idle.text))
        if row.state != 'running':
            self.show_usage(None)
        self.state.text = row.state
        self.state.props(f'color={STATE_COLORS.get(row.state, "blue-grey")}')
        self.facts.text = f'{environment.template or "no template"} · {row.status_text()} · {row.name}'
        self.owner.text = f'Owner: {owner}'
        for action, button in self.buttons.items():
            button.set_enabled(CONTAINER_ACTIONS[ContainerAction(action)].applies_to(row.state))
        self.terminal.set_enabled(row.state == 'running')

    def show_usage(self, usage: Usage | None) -> None:
        """CPU and memory now (from the usage sampler), while it runs."""
        cells = usage_cells(usage) if usage is not None else None
        self.usage.text = f'CPU {cells["cpu"]} · memory {cells["memory"]}' if cells else ''
        self.usage.set_visibility(bool(cells))


def idle_text(idle: Idleness | None) -> str:
    """'Idle stop in 12 minutes', 'In use: stops after 30 idle minutes'; '' without an idle timeout."""
    if idle is None:
        return ''
    if idle.in_use:
        return f'In use: stops after {idle.minutes} idle minute{"" if idle.minutes == 1 else "s"}'
    return f'Idle stop in {duration(idle.left_seconds)}'


def duration(seconds: float) -> str:
    if seconds >= 3600:
        hours = seconds / 3600
        return f'{hours:.1f} hours'
    if seconds >= 60:
        minutes = round(seconds / 60)
        return f'{minutes} minute{"" if minutes == 1 else "s"}'
    whole = max(0, round(seconds))
    return f'{whole} second{"" if whole == 1 else "s"}'
