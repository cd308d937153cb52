"""The script sandbox through the pages (NiceGUI's simulated user, main.py wired for real, the real engine and the
embedded sandbox worker): a developer runs a script and watches it stream, with stdin and arguments, stdout and stderr
told apart; a second run of theirs waits in line while the first runs, with its place shown; cancel stops it; a
gigabyte of output is stopped at the cap and the page stays usable; a viewer cannot run but may open the read-only
link, another developer may not; admins manage runtimes, limits beyond the hard ceilings refused."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User

from components.run_output import RunOutputView
from components.run_panel import RunPanel
from core.sandbox.runtimes import Runtime, Runtimes
from core.storage.audit import AuditLog
from core.storage.sqlite import SQLiteDatabase
from tests.support import BUSYBOX
from tests.support.eventually import eventually

from .test_environments import sign_in_as
from .test_pages import sign_in

SHELL = {'name': 'bt-sh', 'image': BUSYBOX, 'command': 'sh /sandbox/main.sh', 'filename': 'main.sh'}


def database(data_dir: Path) -> SQLiteDatabase:
    return SQLiteDatabase(data_dir / 'berth.sqlite3')


def sandbox_containers() -> list[str]:
    return subprocess.run(
        ['docker', 'ps', '-aq', '--filter', 'label=berth.sandbox=1'], capture_output=True, text=True, check=True
    ).stdout.split()


@pytest.fixture
def one_run_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """One run at a time per person (asked for before the ``user`` fixture starts the app)."""
    monkeypatch.setenv('BERTH_SANDBOX_PER_USER', '1')


@pytest.fixture(autouse=True)
def nothing_left_behind() -> Iterator[None]:
    yield
    left = sandbox_containers()
    subprocess.run(['docker', 'rm', '-f', *left], capture_output=True)
    assert not left, f'sandbox containers left behind: {left}'


def seed(data_dir: Path, **limits: object) -> None:
    Runtimes(database(data_dir)).save(Runtime.from_mapping({**SHELL, 'limits': limits}), by='test')


def panel(user: User) -> RunPanel:
    return next(iter(user.find(RunPanel).elements))  # type: ignore[return-value]


def output(user: User) -> RunOutputView:
    return panel(user).output


def status(user: User) -> str:
    return str(panel(user).status.text)


async def run(user: User, script: str, *, stdin: str = '', arguments: str = '') -> None:
    user.find(marker='script').elements.pop().value = script  # type: ignore[attr-defined]
    if stdin:
        user.find(marker='stdin').type(stdin)
    if arguments:
        user.find(marker='arguments').clear().type(arguments)
    user.find(marker='run').click()


async def test_a_developer_runs_a_script_and_watches_it_stream(user: User, data_dir: Path) -> None:
    seed(data_dir)
    await sign_in_as(user, data_dir, 'dana')
    await user.open('/run')
    await user.should_see('Run a script')
    # When she runs a script that reads its input, prints its arguments, and writes to both streams
    await run(
        user,
        'echo "hello $1"; echo "[$2]"; cat; echo oops >&2; printf "\\033[31mred\\033[0m caf\\xc3\\xa9 \\xff\\n"; id -u',
        stdin='from stdin',
        arguments='world "two words"',
    )
    # Then it finishes with exit code 0, its output on the page, stderr told apart, escapes shown, never interpreted
    await eventually(lambda: status(user).startswith('Finished: exited with code 0'), 30, what=lambda: status(user))
    shown = output(user).text
    stdout = shown.replace('oops\n', '')  # stdout and stderr are two pipes: their order against each other is open
    assert 'hello world\n[two words]\nfrom stdin' in stdout, shown
    assert output(user).error_text == 'oops\n'
    assert '␛[31mred␛[0m café \ufffd' in shown, shown
    assert stdout.splitlines()[-1] == '65534'  # not root
    assert 'isolated by runc' in status(user) and 'peak memory' in status(user)
    # And the run is in her history, audited with the script's hash
    table = next(iter(user.find(ui.table).elements))
    await eventually(
        lambda: [row['summary'][:19] for row in table.rows] == ['exited with code 0 '],  # type: ignore[attr-defined]
        what='the run in the history',
    )
    queued = AuditLog(database(data_dir)).entries(action='sandbox.run', username='dana')
    sha256 = hashlib.sha256(panel(user).run.script.encode()).hexdigest()  # type: ignore[union-attr]
    assert [json.loads(entry.params)['script_sha256'] for entry in queued if 'queued' in entry.result] == [sha256]
    assert any(entry.result.startswith('succeeded: exited with code 0') for entry in queued)


async def test_a_run_beyond_the_limit_waits_in_line_and_cancel_stops_runs(
    one_run_each: None, user: User, data_dir: Path
) -> None:
    seed(data_dir, timeout=60)
    await sign_in_as(user, data_dir, 'dana')
    await user.open('/run')
    await run(user, 'echo started; sleep 50')
    await eventually(lambda: 'started' in output(user).text, 30, what='the first run to start')
    first = panel(user).run
    # When she starts two more while the first runs (one at a time each), they wait in line, saying where and why
    await run(user, 'echo second')
    await eventually(lambda: status(user).startswith('Queued: 1st in line'), 10, what=lambda: status(user))
    assert 'your other runs are running (at most 1 of yours at once)' in status(user)
    second = panel(user).run
    await run(user, 'echo third')
    await eventually(lambda: status(user).startswith('Queued: 2nd in line'), 10, what=lambda: status(user))
    # When she cancels the third while it waits, it leaves the line at once
    user.find(kind=ui.button, content='Cancel').click()
    await eventually(lambda: status(user).startswith('Stopped: cancelled by dana'), 10, what=lambda: status(user))
    # When she cancels the first while it runs, it is stopped, and the second runs
    assert first is not None and second is not None
    panel(user).follow(first)
    user.find(kind=ui.button, content='Cancel').click()
    await eventually(lambda: status(user).startswith('Stopped: cancelled by dana'), 30, what=lambda: status(user))
    assert 'started' in output(user).text
    panel(user).follow(second)
    await eventually(lambda: status(user).startswith('Finished: exited with code 0'), 30, what=lambda: status(user))
    assert output(user).text == 'second\n'
    cancels = AuditLog(database(data_dir)).entries(action='sandbox.cancel', username='dana')
    assert len(cancels) == 2


async def test_a_gigabyte_of_output_is_stopped_at_the_cap_and_the_page_stays_usable(user: User, data_dir: Path) -> None:
    seed(data_dir, output='64k')
    await sign_in_as(user, data_dir, 'dana')
    await user.open('/run')
    await run(user, 'head -c 1073741824 /dev/zero | tr "\\0" x')
    await eventually(lambda: status(user).startswith('Stopped: output limit (64 KiB)'), 60, what=lambda: status(user))
    assert output(user).text == 'x' * 64 * 1024
    # And the page answers at once: another run goes through
    await run(user, 'echo still here')
    await eventually(lambda: output(user).text == 'still here\n', 30, what=lambda: output(user).text[:80])


async def test_a_viewer_cannot_run_but_opens_the_link_another_developer_may_not(
    user: User, create_user: object, data_dir: Path
) -> None:
    seed(data_dir)
    await sign_in_as(user, data_dir, 'dana')
    await user.open('/run')
    await run(user, 'echo shared')
    await eventually(lambda: status(user).startswith('Finished'), 30, what=lambda: status(user))
    run_id = panel(user).run.run_id  # type: ignore[union-attr]
    make = create_user  # type: ignore[assignment]
    victor, eve = make(), make()  # type: ignore[operator]
    # Given a viewer: no Run in the navigation, and /run refused with a sentence
    await sign_in_as(victor, data_dir, 'victor', role='viewer')
    await victor.should_not_see(kind=ui.button, content='Run')
    await victor.open('/run')
    await victor.should_see('victor is a viewer: run scripts needs the operator role.')
    # But the read-only link shows the run
    await victor.open(f'/run/{run_id}')
    await victor.should_see('A bt-sh script run by dana')
    assert output(victor).text == 'shared\n'
    await victor.should_not_see(kind=ui.button, content='Run again')
    # While another developer learns nothing of it, and the refusal is audited
    await sign_in_as(eve, data_dir, 'eve')
    await eve.open(f'/run/{run_id}')
    await eve.should_see(f'No run with id "{run_id}".')
    refused = AuditLog(database(data_dir)).entries(username='eve', action='sandbox.read')
    assert refused and refused[0].result.startswith('refused: ')


async def test_admins_manage_runtimes_and_nobody_goes_past_a_hard_ceiling(user: User, data_dir: Path) -> None:
    await sign_in(user)
    await user.open('/run')
    await user.should_see('No runtime is configured yet')
    await user.open('/admin/runtimes')
    await user.should_see('Sandbox runtimes')
    user.find(kind=ui.button, content='New runtime').click()
    await user.should_see('Time limit (s)', retries=50)
    for key, value in (('name', 'bt-py'), ('image', BUSYBOX), ('command', 'sh /sandbox/main.sh'), ('filename', 'x')):
        user.find(marker=f'runtime-{key}').type(value)
    user.find(marker='runtime-timeout').type('3600')
    user.find(marker='runtime-user').type('0:0')
    user.find(marker='save-runtime').click()
    await user.should_see('Can be at most 300 s (a hard ceiling)')
    await user.should_see('Runs never run as root: choose a uid and gid other than 0')
    user.find(marker='runtime-timeout').clear().type('20')
    user.find(marker='runtime-user').clear()
    user.find(marker='runtime-memory').type('64m')
    user.find(marker='save-runtime').click()
    runtimes = Runtimes(database(data_dir))
    await eventually(lambda: runtimes.get('bt-py') is not None, what='the runtime saved')
    saved = runtimes.get('bt-py')
    assert saved is not None and saved.limits.timeout == 20 and saved.limits.memory == 64 * 2**20
    assert saved.user == '65534:65534'
    assert AuditLog(database(data_dir)).entries(action='runtime.save')[0].result == 'succeeded'
    await user.open('/run')
    await user.should_see('Run a script')
    await user.should_see('20 s, 64 MiB')
