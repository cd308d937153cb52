"""A bench-only probe of a panel's event loop, loaded by Python at start-up when this directory is on PYTHONPATH and
``BERTH_BENCH_LOOP_PROBE`` names a file (bench/panel_process.py ``probe_environment``).

It times every callback the asyncio loop runs (``Handle._run``: task steps, call_soon / call_later callbacks, I/O
callbacks), keyed by what ran (a task's coroutine, a callback's qualified name), and a lag probe (a 10 ms sleep, how
late it wakes). Every second, and at exit, it writes the figures as JSON to that file: per key the count, total and
longest milliseconds and how many took longer than 20 / 100 ms; the lag's percentiles; the garbage collector's passes
and their time. Reset by writing ``reset`` into ``<file>.reset`` (the probe deletes it)."""

from __future__ import annotations

import asyncio
import asyncio.events
import atexit
import gc
import json
import os
import threading
import time
import tracemalloc
from typing import Any

try:
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None  # type: ignore[assignment]

_PATH = os.environ.get('BERTH_BENCH_LOOP_PROBE', '')


def _install(path: str) -> None:
    figures: dict[str, list[float]] = {}  # key → [count, total ms, max ms, over 20 ms, over 100 ms]
    lags: list[float] = []
    collections: list[float] = []  # ms per gc pass (generation 2 noted separately)
    gen2: list[float] = []
    lock = threading.Lock()
    gc_started: list[float] = [0.0]
    main_thread = threading.main_thread()
    original = asyncio.events.Handle._run

    def key_of(handle: asyncio.Handle) -> str:
        callback = getattr(handle, '_callback', None)
        owner = getattr(callback, '__self__', None)
        if isinstance(owner, asyncio.Task):
            coro = owner.get_coro()
            code = getattr(coro, 'cr_code', None) or getattr(coro, 'gi_code', None)
            name = getattr(coro, '__qualname__', type(coro).__name__)
            where = f'{code.co_filename.rsplit("site-packages/", 1)[-1]}' if code else ''
            return f'task {name} ({where})'
        if isinstance(owner, asyncio.Future):
            return 'future callback'
        name = getattr(callback, '__qualname__', None) or repr(callback)[:80]
        module = getattr(callback, '__module__', '') or ''
        return f'{module}.{name}'

    def note(key: str, ms: float) -> None:
        with lock:
            entry = figures.setdefault(key, [0, 0.0, 0.0, 0, 0])
            entry[0] += 1
            entry[1] += ms
            entry[2] = max(entry[2], ms)
            entry[3] += ms > 20
            entry[4] += ms > 100

    def timed_run(self: asyncio.Handle) -> None:
        started = time.perf_counter()
        try:
            original(self)
        finally:
            note(key_of(self), (time.perf_counter() - started) * 1000)

    asyncio.events.Handle._run = timed_run  # type: ignore[method-assign]

    if uvloop is not None:  # uvicorn runs uvloop when it is installed: its handles are not Python's, so the callbacks
        # are wrapped

        def timed(callback: Any) -> Any:
            holder = type('H', (), {'_callback': callback})()
            key = key_of(holder)  # type: ignore[arg-type]

            def run(*args: Any) -> Any:
                started = time.perf_counter()
                try:
                    return callback(*args)
                finally:
                    if threading.current_thread() is main_thread:
                        note(key, (time.perf_counter() - started) * 1000)

            return run

        loop_class = uvloop.Loop
        soon, later, at = loop_class.call_soon, loop_class.call_later, loop_class.call_at

        def call_soon(self: Any, callback: Any, *args: Any, context: Any = None) -> Any:
            return soon(self, timed(callback), *args, context=context)

        def call_later(self: Any, delay: float, callback: Any, *args: Any, context: Any = None) -> Any:
            return later(self, delay, timed(callback), *args, context=context)

        def call_at(self: Any, when: float, callback: Any, *args: Any, context: Any = None) -> Any:
            return at(self, when, timed(callback), *args, context=context)

        loop_class.call_soon, loop_class.call_later, loop_class.call_at = call_soon, call_later, call_at  # type: ignore[method-assign]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if threading.current_thread() is not main_thread:
            return
        if phase == 'start':
            gc_started[0] = time.perf_counter()
        else:
            ms = (time.perf_counter() - gc_started[0]) * 1000
            (gen2 if info.get('generation') == 2 else collections).append(ms)

    gc.callbacks.append(on_gc)

    def percentile(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else 0.0

    def write() -> None:
        with lock:
            rows = sorted(figures.items(), key=lambda item: -item[1][1])
            report = {
                'callbacks': [
                    {
                        'key': key,
                        'n': int(n),
                        'total_ms': round(total, 1),
                        'max_ms': round(most, 1),
                        'over_20ms': int(o20),
                        'over_100ms': int(o100),
                    }
                    for key, (n, total, most, o20, o100) in rows[:60]
                ],
                'busy_ms': round(sum(entry[1] for entry in figures.values()), 1),
                'lag_ms': {
                    'n': len(lags),
                    'p50': percentile(lags, 0.5),
                    'p90': percentile(lags, 0.9),
                    'p99': percentile(lags, 0.99),
                    'max': round(max(lags, default=0.0), 1),
                },
                'gc': {
                    'young_n': len(collections),
                    'young_ms': round(sum(collections), 1),
                    'gen2_n': len(gen2),
                    'gen2_ms': round(sum(gen2), 1),
                    'gen2_max_ms': round(max(gen2, default=0), 1),
                },
            }
        tmp = f'{path}.tmp'
        with open(tmp, 'w') as file:
            json.dump(report, file, indent=1)
        os.replace(tmp, path)

    def reset_if_asked() -> None:
        if os.path.exists(f'{path}.reset'):
            os.remove(f'{path}.reset')
            with lock:
                figures.clear()
                lags.clear()
                collections.clear()
                gen2.clear()

    def snapshot_if_asked() -> None:
        request = f'{path}.snap'
        if tracemalloc.is_tracing() and os.path.exists(request):
            with open(request) as file:
                name = file.read().strip()
            gc.collect()
            tracemalloc.take_snapshot().dump(f'{path}.{name}.tracemalloc.tmp')
            os.replace(f'{path}.{name}.tracemalloc.tmp', f'{path}.{name}.tracemalloc')
            os.remove(request)

    def trim_if_asked() -> None:  # an experiment: how much of the RSS is free memory glibc keeps
        request = f'{path}.trim'
        if os.path.exists(request):
            os.remove(request)
            import ctypes  # noqa: PLC0415

            def rss() -> int:
                with open('/proc/self/statm') as file:
                    return int(file.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')

            before = rss()
            started = time.perf_counter()
            ctypes.CDLL('libc.so.6').malloc_trim(0)
            took = (time.perf_counter() - started) * 1000
            with open(f'{path}.trimmed', 'w') as file:
                json.dump({'rss_mb_before': before / 1e6, 'rss_mb_after': rss() / 1e6, 'trim_ms': took}, file)

    async def lag_probe() -> None:
        last_write = time.monotonic()
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(max(0.0, (time.perf_counter() - asked) * 1000 - 10))
            if time.monotonic() - last_write >= 1:
                last_write = time.monotonic()
                reset_if_asked()
                snapshot_if_asked()
                trim_if_asked()
                write()

    started_on: set[int] = set()

    def patch_run_forever(loop_class: Any) -> None:
        original_run_forever = loop_class.run_forever

        def run_forever(self: Any) -> None:
            if threading.current_thread() is main_thread and id(self) not in started_on:
                started_on.add(id(self))
                self.call_soon(lambda: self.create_task(lag_probe()))
            original_run_forever(self)

        loop_class.run_forever = run_forever

    patch_run_forever(asyncio.BaseEventLoop)
    if uvloop is not None:
        patch_run_forever(uvloop.Loop)
    atexit.register(write)


if _PATH:
    if os.environ.get('BERTH_BENCH_TRACEMALLOC'):
        tracemalloc.start(int(os.environ['BERTH_BENCH_TRACEMALLOC']))
    _install(_PATH)
