# Sourced by the other scripts (from the repository root): the virtualenv .venv that everything Python runs from,
# so nothing is installed into the system's Python (which may be externally managed, PEP 668).
#
#   ensure_venv NAME MODULES REQUIREMENTS...
#
# creates .venv if it is missing or broken, and installs REQUIREMENTS into it when one of them is newer than the
# stamp .venv/.installed-NAME, or when the venv cannot import MODULES (a comma-separated list). Then it puts
# .venv/bin first on PATH (use_venv), so `python3`, `dramatiq`, `ruff`... are the venv's, also in subprocesses.

VENV="$PWD/.venv"

venv_log() { printf '[venv] %s\n' "$*"; }

ensure_venv() {
  local name=$1 modules=$2
  shift 2
  if ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then  # Debian/Ubuntu ship venv's pip apart
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        venv_log 'apt-get install python3-venv'
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
      else
        venv_log 'python3 cannot create a virtualenv: install python3-venv (sudo apt-get install python3-venv)' >&2
        return 1
      fi
    fi
    venv_log "creating $VENV with $(python3 --version)"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
  fi
  local stamp="$VENV/.installed-$name" stale=''
  local requirements
  if [ ! -f "$stamp" ]; then
    stale='first install'
  else
    for requirements in "$@"; do
      if [ "$requirements" -nt "$stamp" ]; then stale="$requirements changed"; fi
    done
  fi
  if [ -z "$stale" ] && ! "$VENV/bin/python" -c "import $modules" 2>/dev/null; then
    stale='packages missing'
  fi
  if [ -n "$stale" ]; then
    venv_log "pip install -r ${*// / -r } ($stale)"
    local arguments=()
    for requirements in "$@"; do arguments+=(-r "$requirements"); done
    "$VENV/bin/python" -m pip install -q "${arguments[@]}"
    touch "$stamp"
  fi
  use_venv
}

use_venv() {  # .venv/bin first on PATH, for this script and what it starts
  [ -x "$VENV/bin/python" ] || { venv_log "no $VENV: run scripts/test-env.sh (or scripts/run.sh)" >&2; return 1; }
  export VIRTUAL_ENV="$VENV"
  export PATH="$VENV/bin:$PATH"
}
