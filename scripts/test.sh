#!/usr/bin/env bash
# The whole test suite: installs and starts what the tests talk to (if absent), runs the static checks (ruff lint,
# ruff format, mypy), then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-env.sh
echo '[checks] ruff check, ruff format --check, mypy'
python3 -m ruff check .
python3 -m ruff format --check .
python3 -m mypy core auth tasks components pages main.py
exec python3 -m pytest -q -ra "$@"
