#!/usr/bin/env bash
# The whole test suite: installs and starts what the tests talk to (if absent), runs the static checks (ruff lint,
# ruff format, mypy), then pytest; all of them from the virtualenv .venv that scripts/test-env.sh keeps up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-env.sh
. scripts/venv.sh
use_venv
echo '[checks] ruff check, ruff format --check, mypy'
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/mypy" core auth tasks components pages main.py system.py tests/support bench
exec "$VENV/bin/python" -m pytest -q -ra "$@"
