"""One daemon stats stream per container, whatever the number of viewers (flow 3).

The first subscriber to a container opens its stream (a :class:`StatsReader` thread); samples come to the event loop
(``core/handover.py``), join a bounded history (the last minutes, so a new viewer sees them at once) and go to every
subscriber. The last one leaving starts a linger: the stream closes only if nobody subscribes again meanwhile.

The live state says when there can be figures: a container that stops, is removed, or whose engine goes away ends
its stream, and its subscribers get a sentence saying why; a start (or the engine coming back) opens it again. A
stream that ends while the state still says "running" is tried again once after a few seconds, as the daemon may end
a stream just before the container's 'die' event reaches the state. No polling. Create and use it on the event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from core.docker.client import describe_error
from core.docker.endpoints import Endpoints
from core.handover import hand_over
from core.state.containers import ContainerState
from core.state.model import CONTAINER_CHANGES, ChangeKind, DockerState, StateChange
from core.streams.stats_stream import OpenStats, StatsReader, StatsSample, open_daemon_stats

log = logging.getLogger(__name__)

HISTORY_SAMPLES = 300  # 5 minutes at the daemon's one frame a second
LINGER_SECONDS = 10.0
RECHECK_SECONDS = 3.0
WITH_FIGURES = (ContainerState.RUNNING, ContainerState.PAUSED)


@dataclass(kw_only=True, slots=True, frozen=True)
class StatsUpdate:
    """What a subscriber gets: new samples (on subscribing, the history), and why no figures come ('' if they do)."""

    samples: tuple[StatsSample, ...] = ()
    status: str = ''
    history: bool = False  # the first update after subscribing: ``samples`` are the past minutes


StatsCallback = Callable[[StatsUpdate], None]


@dataclass(kw_only=True, slots=True, eq=False)
class _Channel:
    """One container's stream, its history and its subscribers."""

    endpoint: str
    container_id: str
    history: deque[StatsSample]
    subscribers: dict[int, StatsCallback] = field(default_factory=dict)
    reader: StatsReader | None = None
    status: str = ''
    linger: asyncio.TimerHandle | None = None
    recheck: asyncio.TimerHandle | None = None


class StatsHub:
    """The panel's stats streams (``Services.stats``): shared per (endpoint, container), ended when the panel stops."""

    def __init__(
        self,
        endpoints: Endpoints,
        state: DockerState,
        *,
        open_stream: OpenStats = open_daemon_stats,
        linger: float = LINGER_SECONDS,
        history: int = HISTORY_SAMPLES,
        recheck: float = RECHECK_SECONDS,
    ) -> None:
        self.endpoints = endpoints
        self.state = state
        self.open_stream = open_stream
        self.linger = linger
        self.history = history
        self.recheck = recheck
        self.streams_opened = 0  # since the start: what the benches and tests count
        self._channels: dict[tuple[str, str], _Channel] = {}
        self._tokens = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe_state: Callable[[], None] | None = None
        self._stopped = False

    @property
    def open_streams(self) -> int:
        """How many daemon streams are open (or opening) right now."""
        return sum(1 for channel in self._channels.values() if channel.reader is not None)

    def subscribers(self, endpoint: str, container_id: str) -> int:
        channel = self._channels.get((endpoint, container_id))
        return len(channel.subscribers) if channel is not None else 0

    def subscribe(self, endpoint: str, container_id: str, callback: StatsCallback) -> Callable[[], None]:
        """Calls ``callback`` at once with the history and status, then with every new sample or status; returns the
        function that unsubscribes (idempotent). Call it on the event loop."""
        self._loop = asyncio.get_running_loop()
        if self._unsubscribe_state is None:
            self._unsubscribe_state = self.state.subscribe(self._on_state)
        key = (endpoint, container_id)
        channel = self._channels.get(key)
        if channel is None:
            channel = self._channels[key] = _Channel(
                endpoint=endpoint, container_id=container_id, history=deque(maxlen=self.history)
            )
        if channel.linger is not None:
            channel.linger.cancel()
            channel.linger = None
        if channel.reader is None:
            self._follow(channel)
        token = next(self._tokens)
        channel.subscribers[token] = callback
        self._call(callback, StatsUpdate(samples=tuple(channel.history), status=channel.status, history=True))
        return lambda: self._unsubscribe(channel, token)

    def stop(self) -> None:
        """Ends every stream; nothing opens afterwards."""
        self._stopped = True
        for channel in list(self._channels.values()):
            self._close(channel)
        self._channels.clear()
        if self._unsubscribe_state is not None:
            self._unsubscribe_state()
            self._unsubscribe_state = None

    # --- opening and closing (event loop) ---

    def _follow(self, channel: _Channel) -> None:
        """Opens the stream if the state says there can be figures, else says why not."""
        reason = self._no_figures(channel)
        if reason or self._stopped:
            self._set_status(channel, reason or 'The panel is stopping.')
            return
        if channel.recheck is not None:
            channel.recheck.cancel()
            channel.recheck = None
        try:
            endpoint = self.endpoints.get(channel.endpoint)
        except LookupError as error:
            self._set_status(channel, f'{error}.')
            return
        channel.reader = StatsReader(
            open_stream=self.open_stream,
            endpoint=endpoint,
            container_id=channel.container_id,
            push=partial(self._push_threadsafe, channel),
            ended=partial(self._ended_threadsafe, channel),
        )
        self.streams_opened += 1
        channel.reader.start()
        self._set_status(channel, '')

    def _no_figures(self, channel: _Channel) -> str:
        """Why the state says this container has no figures now ('' when it may have)."""
        host = self.state.host(channel.endpoint)
        if not host.ok:
            return f'No figures: {host.message}.'
        row = self.state.containers.get(channel.container_id)
        if row is None or row.endpoint != channel.endpoint:
            return 'The container no longer exists.'
        if row.state not in WITH_FIGURES:
            return f'The container is not running ({row.state}); the figures go on when it starts again.'
        return ''

    def _close(self, channel: _Channel) -> None:
        reader, channel.reader = channel.reader, None
        if reader is not None:
            reader.close()
        for handle in (channel.linger, channel.recheck):
            if handle is not None:
                handle.cancel()
        channel.linger = channel.recheck = None

    def _unsubscribe(self, channel: _Channel, token: int) -> None:
        if channel.subscribers.pop(token, None) is None or channel.subscribers:
            return
        if self._loop is None or self._loop.is_closed() or self._stopped:
            self._discard(channel)
        else:
            channel.linger = self._loop.call_later(self.linger, self._discard, channel)

    def _discard(self, channel: _Channel) -> None:
        """The linger is over and nobody came back: the stream closes and its history goes."""
        if channel.subscribers:
            return
        self._close(channel)
        if self._channels.get((channel.endpoint, channel.container_id)) is channel:
            del self._channels[(channel.endpoint, channel.container_id)]

    # --- what the reader threads hand over, and state changes (event loop) ---

    def _push_threadsafe(self, channel: _Channel, reader: StatsReader, sample: StatsSample) -> bool:
        return hand_over(self._loop, self._receive, channel, reader, sample)

    def _ended_threadsafe(self, channel: _Channel, reader: StatsReader, error: BaseException | None) -> None:
        hand_over(self._loop, self._ended, channel, reader, error)

    def _receive(self, channel: _Channel, reader: StatsReader, sample: StatsSample) -> None:
        if channel.reader is not reader:
            return  # a stream closed meanwhile
        channel.history.append(sample)
        channel.status = ''
        self._broadcast(channel, StatsUpdate(samples=(sample,)))

    def _ended(self, channel: _Channel, reader: StatsReader, error: BaseException | None) -> None:
        if channel.reader is not reader:
            return
        channel.reader = None
        reason = self._no_figures(channel)
        if reason:
            self._set_status(channel, reason)
            return
        ended = f'The stats stream ended: {describe_error(error)}' if error is not None else 'The stats stream ended'
        self._set_status(channel, f'{ended}; trying again in a few seconds.')
        if self._loop is not None and not self._stopped:
            channel.recheck = self._loop.call_later(self.recheck, self._recheck, channel)

    def _recheck(self, channel: _Channel) -> None:
        channel.recheck = None
        if channel.reader is None and self._channels.get((channel.endpoint, channel.container_id)) is channel:
            self._follow(channel)

    def _on_state(self, change: StateChange) -> None:
        if change.kind not in CONTAINER_CHANGES and change.kind != ChangeKind.ENGINE:
            return
        for channel in list(self._channels.values()):
            if change.kind in (ChangeKind.UPSERT, ChangeKind.REMOVE) and change.container_id != channel.container_id:
                continue
            reason = self._no_figures(channel)
            if reason:
                self._close(channel)
                if not channel.subscribers:
                    self._discard(channel)
                self._set_status(channel, reason)
            elif channel.reader is None:
                self._follow(channel)

    # --- telling the subscribers ---

    def _set_status(self, channel: _Channel, status: str) -> None:
        if status != channel.status:
            channel.status = status
            self._broadcast(channel, StatsUpdate(status=status))

    def _broadcast(self, channel: _Channel, update: StatsUpdate) -> None:
        for callback in list(channel.subscribers.values()):
            self._call(callback, update)

    @staticmethod
    def _call(callback: StatsCallback, update: StatsUpdate) -> None:
        try:
            callback(update)
        except Exception:  # one broken view must not stop the others
            log.exception('stats subscriber failed')
