"""The idle rule with fake clocks: idle time counts from the latest activity, the container's start or the panel's own
start; an open terminal or a running exec keeps an environment in use; a stop is asked once."""

from __future__ import annotations

from datetime import UTC, datetime

from core.environments.environment import IDLE_LABEL, Environment
from core.environments.idle import IdleWatch, idleness
from core.environments.templates import ENVIRONMENT_LABEL
from core.permissions import OWNER_LABEL
from core.state.containers import ContainerRow
from core.state.model import DockerState

MINUTE = 60.0
START = 1_700_000_000.0  # the container's start, on the fake clock


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeTerminals:
    def __init__(self) -> None:
        self.open: dict[str, int] = {}
        self.activity: dict[str, float] = {}

    def open_count(self, container_id: str) -> int:
        return self.open.get(container_id, 0)

    def last_activity(self, container_id: str) -> float:
        return self.activity.get(container_id, 0.0)


def row(container_id: str = 'c1', *, minutes: int = 30, state: str = 'running') -> ContainerRow:
    started = datetime.fromtimestamp(START, UTC).strftime('%Y-%m-%dT%H:%M:%S.000000000Z')
    labels = {ENVIRONMENT_LABEL: 'web', OWNER_LABEL: 'local:dana', IDLE_LABEL: str(minutes)}
    return ContainerRow(
        id=container_id, name=f'env-dana-{container_id}', image='x', state=state, started_at=started, labels=labels
    )


def test_the_rule_counts_from_the_last_activity_unless_in_use() -> None:
    assert idleness(minutes=0, minute_seconds=MINUTE, now=100, last_activity=0, in_use=False) is None
    state = idleness(minutes=30, minute_seconds=MINUTE, now=1000 + 29 * 60, last_activity=1000, in_use=False)
    assert state is not None and state.left_seconds == 60 and not state.due
    state = idleness(minutes=30, minute_seconds=MINUTE, now=1000 + 30 * 60, last_activity=1000, in_use=False)
    assert state is not None and state.due and state.idle_seconds == 30 * 60
    state = idleness(minutes=30, minute_seconds=MINUTE, now=1000 + 99 * 60, last_activity=1000, in_use=True)
    assert state is not None and not state.due and state.left_seconds == 30 * 60
    # a minute of one second, for tests
    state = idleness(minutes=3, minute_seconds=1.0, now=1003, last_activity=1000, in_use=False)
    assert state is not None and state.due


class Stops:
    def __init__(self) -> None:
        self.asked: list[tuple[str, int]] = []

    async def __call__(self, container: ContainerRow, minutes: int) -> None:
        self.asked.append((container.id, minutes))


def watch(clock: Clock, terminals: FakeTerminals, stops: Stops, *rows: ContainerRow) -> IdleWatch:
    state = DockerState()
    state.containers = {item.id: item for item in rows}
    idle = IdleWatch(state, terminals, stops, minute_seconds=MINUTE, clock=clock)
    idle.started_at = START - 3600  # the panel started an hour before the container
    return idle


async def test_an_environment_nobody_uses_is_stopped_once_after_its_timeout() -> None:
    clock, terminals, stops = Clock(START + 29 * MINUTE), FakeTerminals(), Stops()
    idle = watch(clock, terminals, stops, row('c1'), row('c2', minutes=0), row('c3', state='exited'))
    environment = Environment.of(idle.state.containers['c1'])
    assert environment is not None
    await idle.check()
    assert stops.asked == []
    assert (state := idle.of(environment)) is not None and state.left_seconds == MINUTE
    clock.now = START + 30 * MINUTE
    await idle.check()
    await idle.check()  # asked once, not at every check
    assert stops.asked == [('c1', 30)]


async def test_terminals_and_execs_are_activity() -> None:
    clock, terminals, stops = Clock(START + 10 * MINUTE), FakeTerminals(), Stops()
    idle = watch(clock, terminals, stops, row('c1'))
    # a terminal typed in at minute 10, closed then
    terminals.activity['c1'] = clock.now
    clock.now = START + 39 * MINUTE
    await idle.check()
    assert stops.asked == []
    # an exec at minute 39 (docker exec from outside the panel) runs on: in use however long
    idle.on_exec('c1', 'exec_create', 'e1')
    idle.on_exec('c1', 'exec_start', 'e1')
    clock.now = START + 200 * MINUTE
    await idle.check()
    assert stops.asked == []
    # it ends at minute 200; 30 minutes later the environment is idle
    idle.on_exec('c1', 'exec_die', 'e1')
    clock.now = START + 229 * MINUTE
    await idle.check()
    assert stops.asked == []
    # an open terminal keeps it in use as well
    terminals.open['c1'] = 1
    clock.now = START + 300 * MINUTE
    await idle.check()
    assert stops.asked == []
    terminals.open['c1'] = 0
    await idle.check()
    assert stops.asked == [('c1', 30)]


async def test_after_a_panel_restart_idle_time_counts_from_the_restart() -> None:
    clock, terminals, stops = Clock(START + 100 * MINUTE), FakeTerminals(), Stops()
    idle = watch(clock, terminals, stops, row('c1'))
    idle.started_at = START + 90 * MINUTE  # the panel (re)started at minute 90: nothing known before
    await idle.check()
    assert stops.asked == []
    clock.now = START + 120 * MINUTE
    await idle.check()
    assert stops.asked == [('c1', 30)]
