#!/usr/bin/env bash
# Installs and starts, idempotently, everything the test suite talks to for real:
# Docker Engine, Redis, PostgreSQL, a local registry, Chromium, the Python dependencies (in .venv) and the local test
# images.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[test-env] %s\n' "$*"; }

need_apt=()
command -v dockerd >/dev/null || need_apt+=(docker.io)
command -v redis-server >/dev/null || need_apt+=(redis-server)
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || need_apt+=(postgresql)
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx wget || need_apt+=(busybox-static)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v docker-registry >/dev/null || need_apt+=(docker-registry)
command -v node >/dev/null || need_apt+=(nodejs npm)
command -v debootstrap >/dev/null || need_apt+=(debootstrap)
command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || need_apt+=(docker-compose)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! docker version >/dev/null 2>&1; then
  log 'starting dockerd'
  (dockerd >/tmp/dockerd.log 2>&1 &)
  for _ in $(seq 1 60); do docker version >/dev/null 2>&1 && break; sleep 0.5; done
  docker version >/dev/null
fi

if ! redis-cli -p 6379 ping >/dev/null 2>&1; then
  log 'starting redis-server'
  redis-server --port 6379 --save '' --daemonize yes >/dev/null
  for _ in $(seq 1 20); do redis-cli -p 6379 ping >/dev/null 2>&1 && break; sleep 0.25; done
fi

# The Python packages, in the virtualenv .venv (never the system's Python): reinstalled when a requirements file changes
. scripts/venv.sh
modules='nicegui, docker, dramatiq, authlib, argon2, re2, psycopg, playwright, pytest, pytest_asyncio, ruff, mypy'
ensure_venv dev "$modules" requirements.txt requirements-dev.txt

if ! docker image inspect berth-test/busybox:latest >/dev/null 2>&1; then
  log 'building berth-test/busybox:latest'
  root=$(mktemp -d)
  mkdir -p "$root"/bin "$root"/tmp "$root"/etc "$root"/root "$root"/proc "$root"/sys "$root"/dev
  cp /bin/busybox "$root"/bin/
  for applet in $(/bin/busybox --list); do [ "$applet" != busybox ] && ln -sf busybox "$root/bin/$applet"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$root"/etc/passwd
  tar -C "$root" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - berth-test/busybox:latest >/dev/null
  rm -rf "$root"
fi
# The test identity provider's packages: exactly the committed lockfile, again whenever that lockfile changes
lock_sum=$(sha256sum tests/idp/package-lock.json | cut -d' ' -f1)
if [ ! -d tests/idp/node_modules/oidc-provider ] \
   || [ "$(cat tests/idp/node_modules/.berth-lock-sha256 2>/dev/null)" != "$lock_sum" ]; then
  log 'npm ci (test identity provider)'
  (cd tests/idp && npm ci --no-audit --no-fund --silent)
  echo "$lock_sum" > tests/idp/node_modules/.berth-lock-sha256
fi

# PostgreSQL for tests/integration/test_database_postgres.py: role berth (password berth), database berth_test
if ! pg_isready -q -h localhost -p 5432 2>/dev/null; then
  log 'starting postgresql'
  cluster=$(pg_lsclusters -h | awk 'NR==1 {print $1, $2}')
  [ -n "$cluster" ] || { pg_createcluster "$(ls /usr/lib/postgresql | sort -V | tail -1)" main >/dev/null; \
                         cluster=$(pg_lsclusters -h | awk 'NR==1 {print $1, $2}'); }
  pg_ctlcluster $cluster start
  for _ in $(seq 1 40); do pg_isready -q -h localhost -p 5432 && break; sleep 0.25; done
fi
psql_admin() { su postgres -c "psql -qtAX -c \"$1\""; }
[ "$(psql_admin "SELECT 1 FROM pg_roles WHERE rolname = 'berth'")" = 1 ] \
  || psql_admin "CREATE ROLE berth LOGIN PASSWORD 'berth'"
[ "$(psql_admin "SELECT 1 FROM pg_database WHERE datname = 'berth_test'")" = 1 ] \
  || su postgres -c 'createdb -O berth berth_test'

log 'ready'
