"""The stack actions, one table: label (the button's accessible name), icon, past tense, the permission, whether the
stack's files go with the job (and pass the body policy), and the compose commands it runs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.permissions import Permission


@dataclass(kw_only=True, slots=True, frozen=True)
class StackActionSpec:
    label: str
    icon: str
    past: str
    permission: Permission
    files: bool  # runs on the stack's files (deploy, pull, update); else on the project's labels alone
    creates: bool  # makes containers: the normalised file passes the body policy
    steps: tuple[tuple[str, ...], ...]  # compose commands, in order


class StackAction(StrEnum):
    DEPLOY = 'deploy'
    STOP = 'stop'
    START = 'start'
    RESTART = 'restart'
    DOWN = 'down'
    PULL = 'pull'
    UPDATE = 'update'

    @property
    def spec(self) -> StackActionSpec:
        return SPECS[self]

    @property
    def kind(self) -> str:
        """The job's kind and audit action: ``stack.deploy``."""
        return f'stack.{self.value}'


UP = ('up', '-d', '--remove-orphans')
SPECS: dict[StackAction, StackActionSpec] = {
    StackAction.DEPLOY: StackActionSpec(
        label='Deploy',
        icon='rocket_launch',
        past='deployed',
        permission=Permission.STACK_DEPLOY,
        files=True,
        creates=True,
        steps=(UP,),
    ),
    StackAction.STOP: StackActionSpec(
        label='Stop',
        icon='stop',
        past='stopped',
        permission=Permission.STACK_LIFECYCLE,
        files=False,
        creates=False,
        steps=(('stop',),),
    ),
    StackAction.START: StackActionSpec(
        label='Start',
        icon='play_arrow',
        past='started',
        permission=Permission.STACK_LIFECYCLE,
        files=False,
        creates=False,
        steps=(('start',),),
    ),
    StackAction.RESTART: StackActionSpec(
        label='Restart',
        icon='restart_alt',
        past='restarted',
        permission=Permission.STACK_LIFECYCLE,
        files=False,
        creates=False,
        steps=(('restart',),),
    ),
    StackAction.DOWN: StackActionSpec(
        label='Down',
        icon='delete_sweep',
        past='took down',
        permission=Permission.STACK_LIFECYCLE,
        files=False,
        creates=False,
        steps=(('down', '--remove-orphans'),),
    ),
    StackAction.PULL: StackActionSpec(
        label='Pull',
        icon='download',
        past='pulled',
        permission=Permission.STACK_DEPLOY,
        files=True,
        creates=False,
        steps=(('pull',),),
    ),
    StackAction.UPDATE: StackActionSpec(
        label='Update',
        icon='update',
        past='updated',
        permission=Permission.STACK_DEPLOY,
        files=True,
        creates=True,
        steps=(('pull',), UP),
    ),
}
ROLLBACK_KIND = 'stack.rollback'  # a deploy of an earlier version: its own audit action, the deploy's actor
KINDS = (*(action.kind for action in StackAction), ROLLBACK_KIND)


def parse_stack_action(value: str) -> StackAction | None:
    """The action a job kind runs ('stack.rollback' deploys)."""
    if value == ROLLBACK_KIND:
        return StackAction.DEPLOY
    try:
        return StackAction(value.removeprefix('stack.'))
    except ValueError:
        return None
