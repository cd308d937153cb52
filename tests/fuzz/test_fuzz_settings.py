"""The environment Berth starts from (core/settings.py) under hostile values: settings, or one sentence naming the
variables that are wrong, without their values (a secret may be among them), that main.py and the worker print."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from core.settings import Settings, SettingsError
from tests.support import PROJECT_ROOT

from .strategies import assert_sentence, hostile_text

VARIABLES = (
    'BERTH_PORT',
    'BERTH_TRUSTED_PROXIES',
    'BERTH_WORKER_THREADS',
    'BERTH_SESSION_IDLE_MINUTES',
    'BERTH_SESSION_MAX_HOURS',
    'BERTH_JOB_LOST_AFTER',
    'BERTH_RECORD_TERMINALS',
    'BERTH_RECORDING_MAX_MB',
    'BERTH_SANDBOX_CONCURRENCY',
    'BERTH_LOCAL_LOGIN',
    'BERTH_SECRET_KEY',
    'REDIS_URL',
    'DOCKER_HOST',
)
SECRET = 'BERTH_SECRET_KEY'


def environment_value(text: str) -> bool:
    """What an environment variable can hold: no NUL, and bytes the file system encoding can give."""
    try:
        os.fsencode(text)
    except UnicodeEncodeError:
        return False
    return '\x00' not in text


@given(st.dictionaries(st.sampled_from(VARIABLES), hostile_text().filter(environment_value), min_size=1, max_size=4))
@example({'BERTH_PORT': '99999'})  # was: accepted, and uvicorn failed later with its own words
@example({'BERTH_SESSION_IDLE_MINUTES': 'nan'})  # was: accepted: a session that never idles out
@example({'BERTH_JOB_LOST_AFTER': 'inf'})
@example({'BERTH_TRUSTED_PROXIES': 'x', SECRET: 'hunter2-secret'})
def test_settings(variables: dict[str, str]) -> None:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in variables.items():
            patch.setenv(name, value)
        try:
            settings = Settings.from_environment()
        except SettingsError as error:
            message = str(error)
            assert_sentence(message)
            assert any(name in message for name in variables), message
            secret = variables.get(SECRET, '')
            if len(secret) > 3 and not any(secret in value for name, value in variables.items() if name != SECRET):
                assert secret not in message  # (another variable's own value may be quoted: it is not secret)
            return
    assert 0 <= settings.port <= 65535
    assert all(math.isfinite(value) for value in (settings.session_idle_minutes, settings.job_lost_after))


def test_main_says_which_variable_is_wrong_and_exits() -> None:
    """`python main.py` with a bad variable prints the sentence and exits, no traceback."""
    environment = {**os.environ, 'BERTH_PORT': 'eighty'}
    environment.pop('PYTEST_CURRENT_TEST', None)
    environment.pop('NICEGUI_USER_SIMULATION', None)
    finished = subprocess.run(
        [sys.executable, 'main.py'], cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 1
    assert 'BERTH_PORT: Input should be a valid integer' in finished.stderr
    assert 'Traceback' not in finished.stderr
