#!/usr/bin/env bash
# Runs Berth with the embedded default (no Redis, no identity provider): installs the Python dependencies if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import nicegui, docker, dramatiq, authlib, argon2' 2>/dev/null || python3 -m pip install -q -r requirements.txt
exec python3 main.py "$@"
