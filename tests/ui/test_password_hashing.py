"""argon2 (tens of milliseconds of CPU per hash) never runs on the event loop: not at sign-in, not when an admin
creates an account or resets a password, and not when the panel's modules are imported."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher
from nicegui import ui
from nicegui.testing import User

import auth.accounts
from tests.support import PROJECT_ROOT

from .test_admin import create_account
from .test_pages import sign_in


class RecordingHasher(PasswordHasher):
    """Notes, for each hash and verification, whether it ran on a thread with a running event loop."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, bool]] = []

    def hash(self, password: str | bytes, **keywords: Any) -> str:
        self.calls.append(('hash', _on_a_loop()))
        return super().hash(password, **keywords)

    def verify(self, hash: str | bytes, password: str | bytes) -> Any:
        self.calls.append(('verify', _on_a_loop()))
        return super().verify(hash, password)


def _on_a_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> RecordingHasher:
    recording = RecordingHasher()
    monkeypatch.setattr(auth.accounts, '_hasher', recording)
    return recording


async def test_sign_in_account_creation_and_password_reset_hash_off_the_loop(
    create_user: Callable[[], User], hasher: RecordingHasher
) -> None:
    admin, stranger = create_user(), create_user()
    await sign_in(stranger, 'nobody', 'a wrong password', succeeds=False)
    await stranger.should_see('Wrong username or password.')
    await sign_in(admin)
    await create_account(admin, 'vera', 'viewer')
    table = next(iter(admin.find(ui.table).elements))
    table.selected = [row for row in table.rows if row['username'] == 'vera']  # type: ignore[attr-defined]
    admin.find(kind=ui.button, content='Reset password').click()
    await admin.should_see('New password for vera (shown once):', retries=50)
    # two sign-ins verified, two passwords hashed (and, the first time, the unknown user's stand-in), none on the loop
    kinds = [kind for kind, _ in hasher.calls]
    assert kinds.count('verify') == 2 and kinds.count('hash') in (2, 3)
    assert [on_loop for _, on_loop in hasher.calls] == [False] * len(kinds)


def test_importing_the_accounts_module_hashes_nothing() -> None:
    script = (
        'import argon2\n'
        'def refuse(*args, **keywords): raise SystemExit("hashed at import")\n'
        'argon2.PasswordHasher.hash = refuse\n'
        'import auth.accounts, auth.setup, system\n'
    )
    done = subprocess.run([sys.executable, '-c', script], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
