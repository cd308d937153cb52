#!/usr/bin/env bash
# Runs Berth with the embedded default (no Redis, no identity provider), from the virtualenv .venv: creates it and
# installs requirements.txt into it when missing or changed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
ensure_venv runtime 'nicegui, docker, dramatiq, authlib, argon2, re2' requirements.txt
exec "$VENV/bin/python" main.py "$@"
