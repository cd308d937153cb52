"""Who gets a terminal in which container, through the pages, against the real engine: an operator is refused (with a
sentence and an audit entry) where the container's body is admin-only or the container is one of Berth's own; an
admin gets in there; an operator gets into a plain container."""

from __future__ import annotations

import re
import secrets
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from nicegui.testing import User

from auth.accounts import Accounts
from core.storage.audit import AuditLog
from core.storage.sqlite import SQLiteDatabase

from .test_pages import sign_in

MakeContainer = Callable[..., str]


# A notice ('[session ended …]') is written without waiting for an answer, and the user fixture cannot answer those
WRITE = re.compile(r'berthTerminal\.write\(\d+, "(?!\\r\\n\[)')


def answer_terminal_scripts(user: User, *, writes: bool = True) -> None:
    """The page's side of a terminal, as a browser would answer: its size once shown, and each write once parsed."""
    user.javascript_rules[re.compile(r'(?s).*berthTerminal\.ready\(')] = lambda _: [24, 80]
    if writes:
        user.javascript_rules[WRITE] = lambda _: True


async def sign_in_as_operator(user: User, data_dir: Path, username: str = 'olga', *, writes: bool = True) -> None:
    password = secrets.token_urlsafe(12)
    Accounts(SQLiteDatabase(data_dir / 'berth.sqlite3')).create(username, password, 'operator')
    await sign_in(user, username, password)
    answer_terminal_scripts(user, writes=writes)


def processes(container: str) -> list[str]:
    lines = subprocess.run(['docker', 'top', container], check=True, capture_output=True, text=True).stdout.splitlines()
    return [line.split(None, 7)[-1] for line in lines[1:]]


def refusals(data_dir: Path, container: str) -> list[str]:
    entries = AuditLog(SQLiteDatabase(data_dir / 'berth.sqlite3')).entries(action='container.exec')
    return [entry.result for entry in entries if entry.target == container and entry.result.startswith('refused: ')]


@pytest.mark.parametrize(
    'body, reason',
    [
        ('bind', 'A terminal in {name} needs the admin role: it has host paths mounted ({host_path}).'),
        ('privileged', 'A terminal in {name} needs the admin role: it has privileged mode.'),
        ('capability', 'A terminal in {name} needs the admin role: it has added capabilities (CAP_NET_ADMIN).'),
        ('protected', "{name} is one of Berth's own containers: a terminal in it needs the admin role."),
    ],
)
async def test_an_operator_is_refused_a_terminal_where_only_an_admin_may_go(
    user: User, make_container: MakeContainer, data_dir: Path, tmp_path: Path, body: str, reason: str
) -> None:
    # Given a container an admin started with what only an admin may create
    host_path = tmp_path / 'host'
    host_path.mkdir()
    # (the engine on these machines cannot start a privileged container; the refusal comes before any exec anyway)
    options: dict[str, dict[str, Any]] = {
        'bind': {'extra': ['-v', f'{host_path}:/host']},
        'privileged': {'extra': ['--privileged'], 'start': False},
        'capability': {'extra': ['--cap-add', 'NET_ADMIN']},
        'protected': {'labels': {'berth.protected': 'true'}},
    }
    name = make_container(**options[body])
    sentence = reason.format(name=name, host_path=host_path)
    await sign_in_as_operator(user, data_dir)
    # When the operator opens a terminal in it
    await user.open(f'/containers/{name}/terminal')
    # Then the terminal says why not, nothing runs in the container, and the refusal is audited
    await user.should_see(sentence, retries=100)
    assert body == 'privileged' or processes(name) == ['sleep 600']
    assert refusals(data_dir, name) == [f'refused: {sentence[:1].lower()}{sentence[1:-1]}']
    # And the container page's Terminal tab says so instead of offering terminals
    await user.open(f'/containers/{name}')
    await user.should_see(sentence, retries=100)
    await user.should_not_see('New terminal')


async def test_an_admin_gets_a_terminal_where_an_operator_may_not(
    user: User, make_container: MakeContainer, tmp_path: Path
) -> None:
    name = make_container(
        extra=['--cap-add', 'NET_ADMIN', '-v', f'{tmp_path}:/host'], labels={'berth.protected': 'true'}
    )
    await sign_in(user)
    answer_terminal_scripts(user)
    await user.open(f'/containers/{name}/terminal')
    await user.should_see(f'/bin/sh in {name}', retries=100)
    assert processes(name) == ['sleep 600', '/bin/sh']


async def test_an_operator_gets_a_terminal_in_a_plain_container(
    user: User, make_container: MakeContainer, data_dir: Path
) -> None:
    name = make_container()
    await sign_in_as_operator(user, data_dir)
    await user.open(f'/containers/{name}/terminal')
    await user.should_see(f'/bin/sh in {name}', retries=100)
    assert processes(name) == ['sleep 600', '/bin/sh']
    assert refusals(data_dir, name) == []
