"""The container lifecycle vocabulary, in one table: verb, label, icon, past tense and the states it applies to.

The containers table, the detail page, the bulk toolbar, the command layer, the actor, the job centre and the audit
log all read it: a job's kind (and its audit action) is ``container.<action>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.state.containers import ContainerState


class ContainerAction(StrEnum):
    START = 'start'
    STOP = 'stop'
    RESTART = 'restart'
    PAUSE = 'pause'
    UNPAUSE = 'unpause'
    KILL = 'kill'
    REMOVE = 'remove'

    @property
    def kind(self) -> str:
        """The job kind and audit action of this action."""
        return f'container.{self.value}'

    @property
    def spec(self) -> ActionSpec:
        return CONTAINER_ACTIONS[self]


@dataclass(frozen=True, slots=True)
class ActionSpec:
    label: str  # the button's text and accessible name: 'Resume'
    icon: str  # Material icon
    past: str  # 'resumed': the job's result sentence
    states: tuple[ContainerState, ...] | None  # where the button shows; None: every state (the server decides)

    def applies_to(self, state: str) -> bool:
        return self.states is None or state in self.states

    def vue_condition(self, field: str = 'props.row.state') -> str:
        """The same rule as a Vue expression, for table cells rendered in the browser."""
        if self.states is None:
            return 'true'
        return f'{[state.value for state in self.states]!r}.includes({field})'


_S = ContainerState
CONTAINER_ACTIONS: dict[ContainerAction, ActionSpec] = {
    ContainerAction.START: ActionSpec('Start', 'play_arrow', 'started', (_S.CREATED, _S.EXITED, _S.DEAD)),
    ContainerAction.STOP: ActionSpec('Stop', 'stop', 'stopped', (_S.RUNNING, _S.PAUSED, _S.RESTARTING)),
    ContainerAction.RESTART: ActionSpec(
        'Restart', 'restart_alt', 'restarted', tuple(state for state in _S if state is not _S.PAUSED)
    ),
    ContainerAction.PAUSE: ActionSpec('Pause', 'pause', 'paused', (_S.RUNNING,)),
    ContainerAction.UNPAUSE: ActionSpec('Resume', 'play_circle', 'resumed', (_S.PAUSED,)),
    ContainerAction.KILL: ActionSpec('Kill', 'dangerous', 'killed', (_S.RUNNING, _S.PAUSED, _S.RESTARTING)),
    ContainerAction.REMOVE: ActionSpec('Remove', 'delete', 'removed', None),
}
ACTIONS: tuple[str, ...] = tuple(action.value for action in ContainerAction)


def parse_action(action: str) -> ContainerAction | None:
    try:
        return ContainerAction(action)
    except ValueError:
        return None
