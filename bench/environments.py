"""Dev environments: from a click on "New environment" to the first shell prompt in the page, next to `docker run -d`
+ `docker exec -it` of the same image in the same run; then 20 people's environments with open terminals at once.

    python bench/environments.py [--runs 3] [--people 20] [--keystrokes 30]

create: a developer (a local account) on /environments clicks "New environment", types a name, clicks Create, waits
for the card to say running, clicks "Open terminal" and waits for the shell's prompt in the page's xterm
(``/home/dev #``); timed from the first click. Raw: `docker run -d` of the template's image with the same limits, home
volume and command, then `docker exec -it` of its shell in the home directory through a pty, until the prompt is read.
The two alternate, ``--runs`` times each.

people: ``--people`` browser contexts, each a developer of its own (local accounts), create their environment through
the page (four at a time) and open its terminal; with every terminal open, the panel's RSS, and keystroke-to-echo in
each terminal in turn (``--keystrokes`` each, into `cat`), next to the same through `docker exec -it` in a pty.
Results go to bench/results/environments.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import pty
import select
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.async_api import Browser, Page, async_playwright

from auth.accounts import Accounts
from bench.common import echo_latencies, latency_summary, machine_facts, save_results
from core.storage.sqlite import SQLiteDatabase
from tests.support import BUSYBOX, PROJECT_ROOT
from tests.support.browser import launch_chromium
from tests.support.panel import Panel

RESULTS = PROJECT_ROOT / 'bench' / 'results' / 'environments.json'
PREFIX = f'btq{uuid.uuid4().hex[:5]}'  # every environment and volume of this run starts with it
TEMPLATE = PREFIX
PASSWORD = 'bench-developer-password'
PROMPT = '/home/dev #'
TIMEOUT_MS = 60_000
TEMPLATES_YAML = f"""
- name: {TEMPLATE}
  image: {BUSYBOX}
  home: /home/dev
  cpus: 0.5
  memory: 64m
  idle_minutes: 0
  shell: /bin/sh
"""
KEEP_RUNNING = 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'  # the template's default command


def rss_mb(pid: int) -> float:
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    return 0.0


class PtyShell:
    """`docker exec -it CONTAINER /bin/sh` in the home directory, on a pty of our own (as a terminal would be)."""

    def __init__(self, container: str) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            ['docker', 'exec', '-it', '-w', '/home/dev', container, '/bin/sh'],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        self.seen = b''

    def read_until(self, text: bytes, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f'no {text!r} from docker exec (saw {self.seen[-200:]!r})')
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                self.seen += os.read(self.master, 4096)

    def echo(self, character: str) -> float:
        """ms from writing one character (into `cat`) until its echo is read back."""
        self.seen = b''
        started = time.perf_counter()
        os.write(self.master, character.encode())
        self.read_until(character.encode(), 5.0)
        return (time.perf_counter() - started) * 1000

    def close(self) -> None:
        self.process.kill()
        self.process.wait(10)
        os.close(self.master)


def raw_create(run: int) -> float:
    """Seconds from `docker run -d` (the environment's body) to the shell's prompt through `docker exec -it`."""
    name, volume = f'bt-quota-bench-raw-{PREFIX}-{run}', f'bt-quota-bench-{PREFIX}-{run}-home'
    started = time.perf_counter()
    subprocess.run(
        [
            'docker', 'run', '-d', '--name', name, '--label', 'berth-bench=1', '--cpus', '0.5', '--memory', '64m',
            '--mount', f'type=volume,source={volume},target=/home/dev', BUSYBOX, 'sh', '-c', KEEP_RUNNING,
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    shell = PtyShell(name)
    try:
        shell.read_until(PROMPT.encode())
        return time.perf_counter() - started
    finally:
        shell.close()
        subprocess.run(['docker', 'rm', '-f', name], capture_output=True)
        subprocess.run(['docker', 'volume', 'rm', volume], capture_output=True)


async def developer_page(browser: Browser, base_url: str, username: str) -> Page:
    """A browser context of its own, signed in as the developer ``username``, on /environments."""
    context = await browser.new_context(base_url=base_url, viewport={'width': 1400, 'height': 900})
    page = await context.new_page()
    await page.goto('/login')
    await page.get_by_label('Username').fill(username)
    await page.get_by_label('Password', exact=True).fill(PASSWORD)
    await page.get_by_role('button', name='Sign in').click()
    await page.wait_for_url('**/environments', timeout=TIMEOUT_MS)
    await page.get_by_role('button', name='New environment').wait_for(timeout=TIMEOUT_MS)
    return page


async def create_and_open(page: Page, name: str) -> dict[str, float]:
    """Seconds from the click on "New environment" to each step, the last being the prompt in the terminal."""
    started = time.perf_counter()
    await page.get_by_role('button', name='New environment').click()
    dialog = page.get_by_role('dialog', name='New environment')
    await dialog.get_by_label('Name').fill(name)
    await page.get_by_role('button', name='Create environment').click()
    asked = time.perf_counter()
    card = page.get_by_role('region', name=f'Environment {name}')
    await card.get_by_text('running', exact=True).wait_for(timeout=TIMEOUT_MS)
    running = time.perf_counter()
    await card.get_by_role('button', name='Open terminal').click()
    await page.locator('.xterm-rows').get_by_text(PROMPT).first.wait_for(timeout=TIMEOUT_MS)
    prompt = time.perf_counter()
    return {
        'create_clicked_s': round(asked - started, 3),
        'card_running_s': round(running - started, 3),
        'prompt_s': round(prompt - started, 3),
    }


def make_developers(panel: Panel, count: int) -> list[str]:
    accounts = Accounts(SQLiteDatabase(panel.data_dir / 'berth.sqlite3'))
    names = [f'dev{index:02d}' for index in range(count)]
    for name in names:
        accounts.create(name, PASSWORD, 'developer')
    return names


def container_of(username: str, name: str) -> str:
    return f'env-{username}-{name}'


def clean_up() -> None:
    listed = subprocess.run(
        ['docker', 'ps', '-aq', '--filter', f'label=berth.template={TEMPLATE}'], capture_output=True, text=True
    )
    for container in listed.stdout.split():
        subprocess.run(['docker', 'rm', '-f', container], capture_output=True)
    volumes = subprocess.run(['docker', 'volume', 'ls', '-q'], capture_output=True, text=True).stdout.split()
    for volume in volumes:
        if f'-{PREFIX}' in volume:
            subprocess.run(['docker', 'volume', 'rm', volume], capture_output=True)


async def create_runs(browser: Browser, panel: Panel, runs: int) -> dict[str, Any]:
    """``runs`` environments of one developer through the page, each next to a raw `docker run` + `docker exec -it`."""
    page = await developer_page(browser, panel.base_url, 'dev00')
    berth, raw = [], []
    for run in range(runs):
        if run % 2:  # alternate which goes first
            raw.append(raw_create(run))
        berth.append(await create_and_open(page, f'{PREFIX}c{run}'))
        await page.goto('/environments')
        if not run % 2:
            raw.append(raw_create(run))
    await page.context.close()
    clean_up()
    prompts = sorted(step['prompt_s'] for step in berth)
    raws = sorted(raw)
    return {
        'berth_click_to_prompt_s': {'median': prompts[len(prompts) // 2], 'all': [step['prompt_s'] for step in berth]},
        'berth_steps': berth,
        'raw_run_and_exec_s': {'median': round(raws[len(raws) // 2], 3), 'all': [round(value, 3) for value in raw]},
        'ratio': round(prompts[len(prompts) // 2] / raws[len(raws) // 2], 2),
    }


async def people_at_once(browser: Browser, panel: Panel, people: list[str], keystrokes: int) -> dict[str, Any]:
    """Every developer's environment with its terminal open at once: the panel's RSS and echo in every terminal."""
    assert panel.process is not None
    rss_before = rss_mb(panel.process.pid)
    pages = await asyncio.gather(*(developer_page(browser, panel.base_url, person) for person in people))
    slots = asyncio.Semaphore(4)

    async def open_one(page: Page, person: str) -> dict[str, float]:
        async with slots:
            return await create_and_open(page, f'{PREFIX}p')

    steps = await asyncio.gather(*(open_one(page, person) for page, person in zip(pages, people, strict=True)))
    await asyncio.sleep(5)  # let the panel settle with every terminal open
    rss_open = rss_mb(panel.process.pid)
    latencies: list[float] = []
    for page in pages:
        await page.locator('[data-berth-terminal]').click()
        await echo_latencies(page, keystrokes, latencies=latencies)
    rss_after = rss_mb(panel.process.pid)
    raw = PtyShell(container_of(people[0], f'{PREFIX}p'))
    try:
        raw.read_until(PROMPT.encode())
        os.write(raw.master, b'cat > /dev/null\r')
        time.sleep(0.3)
        raw_latencies = [raw.echo('abcdefghijklmnopqrstuvwxyz'[index % 26]) for index in range(len(latencies))]
    finally:
        raw.close()
    for page in pages:
        await page.context.close()
    prompts = sorted(step['prompt_s'] for step in steps)
    return {
        'people': len(people),
        'click_to_prompt_s_four_at_a_time': {'median': prompts[len(prompts) // 2], 'max': prompts[-1]},
        'panel_rss_mb': {
            'before_sign_ins': round(rss_before, 1),
            'all_terminals_open': round(rss_open, 1),
            'after_echo_probes': round(rss_after, 1),
            'per_person': round((rss_open - rss_before) / len(people), 2),
        },
        'echo_in_every_terminal': latency_summary(latencies),
        'raw_docker_exec_it_echo': latency_summary(raw_latencies),
    }


async def run(arguments: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()
    panel = Panel()
    panel.data_dir.mkdir(parents=True)
    (panel.data_dir / 'templates.yaml').write_text(TEMPLATES_YAML)
    try:
        with panel:
            people = make_developers(panel, arguments.people)
            async with async_playwright() as playwright:
                browser = await launch_chromium(playwright)
                try:
                    create = await create_runs(browser, panel, arguments.runs)
                    together = await people_at_once(browser, panel, people, arguments.keystrokes)
                except Exception:
                    print(f'panel log (tail):\n{panel.log()[-5000:]}', file=sys.stderr)
                    raise
                finally:
                    await browser.close()
    finally:
        clean_up()
    return {
        'measured_at': datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds'),
        'machine': machine_facts(load_before),
        'image': BUSYBOX,
        'create': create,
        'people_at_once': together,
    }


def print_table(result: dict[str, Any]) -> None:
    create, together = result['create'], result['people_at_once']
    rss, echo, raw = together['panel_rss_mb'], together['echo_in_every_terminal'], together['raw_docker_exec_it_echo']
    load = result['machine']['load_average_1min_before_and_after']
    print(f'\nenvironments bench, {result["machine"]["cpus"]} CPUs, load average {load[0]} before / {load[1]} after')
    print(
        f'  click "New environment" → prompt in the page: median {create["berth_click_to_prompt_s"]["median"]:.2f} s; '
        f'`docker run -d` + `docker exec -it`: {create["raw_run_and_exec_s"]["median"]:.2f} s '
        f'(ratio {create["ratio"]})'
    )
    print(
        f'  {together["people"]} people with open terminals: panel RSS {rss["before_sign_ins"]} → '
        f'{rss["all_terminals_open"]} MB ({rss["per_person"]} MB each); echo p50 / p99 {echo["p50_ms"]} / '
        f'{echo["p99_ms"]} ms (docker exec -it {raw["p50_ms"]} / {raw["p99_ms"]} ms)'
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--people', type=int, default=20)
    parser.add_argument('--keystrokes', type=int, default=30)
    result = asyncio.run(run(parser.parse_args()))
    print_table(result)
    save_results(RESULTS, result)


if __name__ == '__main__':
    main()
