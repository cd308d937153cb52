"""RenderQueue: batches leave in the order they came, filtered ones from worker threads; a new filter wins."""

from __future__ import annotations

import asyncio
import threading

import pytest
from nicegui import core

from components.log_render import LineFilter, render_line
from components.log_render_queue import RenderQueue
from core.streams.log_decode import STDOUT, LogLine
from tests.support.eventually import eventually


@pytest.fixture(autouse=True)
async def nicegui_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """NiceGUI's background tasks run on the app's loop: here, the test's."""
    monkeypatch.setattr(core, 'loop', asyncio.get_running_loop())


def lines(*texts: str) -> list[LogLine]:
    return [LogLine('web', STDOUT, '', text) for text in texts]


class Sent:
    def __init__(self) -> None:
        self.pushes: list[tuple[bool, list[str]]] = []
        self.threads: set[str] = set()

    def __call__(self, html: list[str], replace: bool) -> None:
        self.pushes.append((replace, html))

    def tag(self, line: LogLine) -> None:
        self.threads.add(threading.current_thread().name)

    def texts(self) -> list[str]:
        shown: list[str] = []
        for replace, html in self.pushes:
            shown = [*([] if replace else shown), *html]
        return shown


async def until_idle(queue: RenderQueue) -> None:
    await eventually(lambda: queue.idle, 2, 'the queue to empty', interval=0.01)


async def test_filtered_batches_are_rendered_off_the_loop_in_order() -> None:
    sent = Sent()
    queue = RenderQueue(send=sent, tag=sent.tag, max_lines=100, max_chars=10_000)
    search = LineFilter(text='x')
    pattern = search.compile()
    queue.replace(lines('x0', 'y0'), search, pattern)
    for index in range(1, 20):
        queue.append(lines(f'x{index}', f'y{index}'), search, pattern)
    await until_idle(queue)
    assert sent.texts() == [render_line(line, pattern) for line in lines(*(f'x{index}' for index in range(20)))]
    assert threading.main_thread().name not in sent.threads and sent.threads


async def test_a_new_filter_abandons_what_the_old_one_had_not_sent() -> None:
    sent = Sent()
    queue = RenderQueue(send=sent, tag=sent.tag, max_lines=100_000, max_chars=10**8)
    everything = lines(*(f'line {index} {"x" * 100}' for index in range(50_000)))
    old, new = LineFilter(text='x'), LineFilter(text='line 7')
    queue.replace(everything, old, old.compile())
    await asyncio.sleep(0.05)  # the old filter's job is under way, a slice at a time
    assert not queue.idle
    queue.append(lines('x late'), old, old.compile())
    queue.replace(everything, new, new.compile())
    await until_idle(queue)
    assert sent.pushes and all(html[0].find('line 7') > 0 for _, html in sent.pushes)
    assert len(sent.texts()) == len([line for line in everything if 'line 7' in line.text])
