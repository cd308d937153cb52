"""The project's own checks run with the suite, so CI holds them: ruff (lint) and mypy on every package."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import PROJECT_ROOT

PACKAGES = ['core', 'auth', 'tasks', 'components', 'pages', 'main.py']


def test_ruff_finds_nothing() -> None:
    result = subprocess.run(
        [sys.executable, '-m', 'ruff', 'check', '.'], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing() -> None:
    result = subprocess.run(
        [sys.executable, '-m', 'mypy', *PACKAGES], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
