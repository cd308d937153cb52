#!/usr/bin/env bash
# The whole test suite: installs and starts what the tests talk to (if absent), then runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-env.sh
exec python3 -m pytest -q -ra "$@"
