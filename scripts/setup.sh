#!/usr/bin/env bash
# Set up everything the product needs on a Debian machine, as root; safe to run again.
#   - system packages: PostgreSQL + PostGIS (for the running server's major version), Redis,
#     Python 3.11 with venv, Node.js/npm (the browser assets are served by the app, no CDN)
#   - starts PostgreSQL and Redis when they are not running
#   - database roles and the app database with PostGIS, secret keys in instance/notoneless.env
#   - the virtual environment (.venv) with the pinned dependencies, and the npm assets (with the
#     tests' npm devDependencies where the tests run)
# The database roles: `notoneless` (the app) owns the app's schema and nothing more;
# `notoneless_test`, a superuser that creates and drops the tests' databases, exists only where
# the tests run (NOTONELESS_TEST_ROLE=1, which scripts/test.sh sets; otherwise it is disabled).
# PostgreSQL is the cluster psql reaches (PGHOST, PGPORT when set); its port is read from it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Run a step quietly; when it fails, show its own output (not a later, vaguer error) and stop.
quiet() {
    local what=$1 out; shift
    if ! out=$("$@" 2>&1); then
        printf '%s\n' "$out" >&2
        printf '\033[1;31m==> %s failed (its output is above)\033[0m\n' "$what" >&2
        exit 1
    fi
    printf '%s\n' "$out" | grep -v -e '^WARNING: Location' -e '^$' || true
}

export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=0
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$APT_UPDATED" = 0 ]; then quiet "apt-get update" apt-get update -qq; APT_UPDATED=1; fi
    log "installing ${missing[*]}"
    quiet "installing ${missing[*]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# --- PostgreSQL --------------------------------------------------------------------------------
# psql as the postgres user, on the cluster PGHOST/PGPORT name (else Debian's default cluster).
pg_psql() { runuser -u postgres -- psql "$@"; }
pg_running() { pg_psql -qtAc 'select 1' >/dev/null 2>&1; }
if ! command -v pg_lsclusters >/dev/null 2>&1 && ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql
fi
if ! pg_running; then
    log "starting PostgreSQL"
    for version in $(ls /etc/postgresql); do
        pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
            || pg_ctlcluster "$version" main start || true
    done
    for _ in $(seq 1 30); do pg_running && break; sleep 1; done
fi
pg_running || { echo "PostgreSQL does not answer" >&2; exit 1; }
PG_MAJOR=$(pg_psql -qtAc "select current_setting('server_version_num')::int / 10000")
# The port of the cluster we use: Debian gives a second cluster 5433, and so on.
PG_PORT=$(pg_psql -qtAc "show port")
export PGPORT=$PG_PORT
apt_install "postgresql-${PG_MAJOR}-postgis-3"

# --- Redis -------------------------------------------------------------------------------------
redis_running() { command -v redis-cli >/dev/null 2>&1 && redis-cli -h 127.0.0.1 ping 2>/dev/null | grep -q PONG; }
if ! redis_running; then
    command -v redis-server >/dev/null 2>&1 || apt_install redis-server
    if ! redis_running; then
        log "starting Redis"
        mkdir -p /var/lib/redis /var/log/redis
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
            --dir /var/lib/redis --logfile /var/log/redis/notoneless.log
        for _ in $(seq 1 20); do redis_running && break; sleep 0.5; done
    fi
fi
redis_running || { echo "Redis does not answer" >&2; exit 1; }

# --- Python and Node ---------------------------------------------------------------------------
PYTHON=""
for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys, venv; assert sys.version_info[:2] == (3, 11)' 2>/dev/null; then
        PYTHON=$(command -v "$candidate"); break
    fi
done
if [ -z "$PYTHON" ]; then
    apt_install python3 python3-venv python3-dev
    PYTHON=$(command -v python3)
fi
"$PYTHON" -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
# scripts/run.sh needs no curl (its health check is Python); the README's "Try it" uses it.
command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
# TrueType CJK fonts reportlab can embed in the notices (Noto CJK is CFF, which it cannot): a
# Song face for the text (AR PL UMing) and a Hei face for the titles (WenQuanYi Zen Hei).
apt_install fonts-arphic-uming fonts-wqy-zenhei
# Headless Chromium for the supervisor page's browser test (Playwright drives Debian's
# package; it never downloads a browser).
apt_install chromium
# Java for ODK Validate (JavaRosa, the engine of ODK Collect; its jar ships in pyxform's wheel):
# the tests check every XForm we serve with it, as the bureau's forms would be checked.
if [ "${NOTONELESS_TEST_ROLE:-0}" = 1 ]; then
    command -v java >/dev/null 2>&1 || apt_install default-jre-headless
    # pdftotext and pdftoppm: the tests read the notices' and visit lists' PDFs as a county would
    command -v pdftotext >/dev/null 2>&1 || apt_install poppler-utils
fi
# psycopg's binary wheel brings libpq; gcc is only needed if a wheel is missing for this platform.

# --- configuration -----------------------------------------------------------------------------
mkdir -p instance var/log var/run
ENV_FILE=instance/notoneless.env
umask 077; touch "$ENV_FILE"; umask 022
# Each setting is written once and kept: the keys decrypt stored ID numbers, so they must never
# change under a running database.
ensure() { grep -q "^$1=" "$ENV_FILE" || { log "writing $1 to $ENV_FILE"; echo "$1=$2" >> "$ENV_FILE"; }; }
ensure SECRET_KEY "$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(32))')"
ensure ID_NUMBER_KEY "$("$PYTHON" -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')"
ensure ID_LOOKUP_KEY "$("$PYTHON" -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')"
ensure DB_PASSWORD "$("$PYTHON" -c 'import secrets; print(secrets.token_hex(16))')"
set -a; . "$ENV_FILE"; set +a
ensure DATABASE_URL "postgresql+psycopg://notoneless:${DB_PASSWORD}@127.0.0.1:${PG_PORT}/notoneless"
ensure REDIS_URL "redis://127.0.0.1:6379/0"
TEST_ROLE=${NOTONELESS_TEST_ROLE:-0}
if [ "$TEST_ROLE" = 1 ]; then
    # The tests create and drop their own databases (and PostGIS in them): a separate role,
    # with a password of its own.
    ensure TEST_DB_PASSWORD "$("$PYTHON" -c 'import secrets; print(secrets.token_hex(16))')"
    set -a; . "$ENV_FILE"; set +a
    sed -i '/^TEST_PG_URL=/d' "$ENV_FILE"  # always this cluster's port and the test role's password
    ensure TEST_PG_URL "postgresql://notoneless_test:${TEST_DB_PASSWORD}@127.0.0.1:${PG_PORT}"
fi
set -a; . "$ENV_FILE"; set +a
# A URL written by an earlier run that named another port than the cluster's now.
grep -q "@127.0.0.1:${PG_PORT}/" "$ENV_FILE" || echo "note: DATABASE_URL in $ENV_FILE names another port than the cluster's ${PG_PORT}" >&2

# --- database roles and the app database ------------------------------------------------------
log "database roles and the notoneless database (port ${PG_PORT})"
pg_psql -q -v ON_ERROR_STOP=1 -v pw="$DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE notoneless LOGIN PASSWORD %L', :'pw')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'notoneless') \gexec
-- The app's role logs in and owns its schema; nothing more (an earlier install may have given more).
SELECT format('ALTER ROLE notoneless LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L', :'pw') \gexec
SELECT 'CREATE DATABASE notoneless'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'notoneless') \gexec
ALTER DATABASE notoneless OWNER TO postgres;
REVOKE ALL ON DATABASE notoneless FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE notoneless TO notoneless;
SQL
if [ "$TEST_ROLE" = 1 ]; then
    pg_psql -q -v ON_ERROR_STOP=1 -v pw="$TEST_DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE notoneless_test LOGIN SUPERUSER PASSWORD %L', :'pw')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'notoneless_test') \gexec
SELECT format('ALTER ROLE notoneless_test LOGIN SUPERUSER PASSWORD %L', :'pw') \gexec
SQL
else
    # A test superuser left by an earlier install (which made one everywhere) can log in no more.
    pg_psql -q -v ON_ERROR_STOP=1 <<'SQL'
SELECT 'ALTER ROLE notoneless_test NOLOGIN NOSUPERUSER'
 WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'notoneless_test') \gexec
SQL
fi
# PostGIS is not a trusted extension: the superuser creates it; the app's role owns the schema
# its tables live in.
pg_psql -q -v ON_ERROR_STOP=1 -d notoneless -c "SET client_min_messages = warning" \
    -c "CREATE EXTENSION IF NOT EXISTS postgis" -c "ALTER SCHEMA public OWNER TO notoneless" \
    -c "REVOKE CREATE ON SCHEMA public FROM PUBLIC"

# --- virtual environment and assets -------------------------------------------------------------
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null; then
    log "creating .venv with $PYTHON"
    rm -rf .venv
    "$PYTHON" -m venv .venv
fi
STAMP=.venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$STAMP" ]; then
    log "installing Python dependencies (pinned in pyproject.toml)"
    quiet "upgrading pip" .venv/bin/python -m pip install -q --upgrade pip
    quiet "installing the Python dependencies" .venv/bin/python -m pip install -q -e ".[test]"
    .venv/bin/python -c 'import server, flask_smorest, geoalchemy2, rq' # fail here, not later
    rm -f .venv/.installed-*; touch "$STAMP"
fi
# The devDependencies are the tests' (Enketo, a third-party OpenRosa client, renders our XForms in
# tests/browser/test_enketo.py; esbuild and sass build it there): installed where tests run only.
NPM_ARGS=(--no-audit --no-fund --loglevel=error)
[ "$TEST_ROLE" = 1 ] || NPM_ARGS+=(--omit=dev)
if [ ! -d node_modules/swagger-ui-dist ] || [ ! -d node_modules/vite ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
        || { [ "$TEST_ROLE" = 1 ] && [ ! -d node_modules/enketo-core ]; }; then
    log "installing browser assets from the npm registry"
    quiet "installing the browser assets (npm ci)" npm ci "${NPM_ARGS[@]}"
fi
# The workbench (server/workbench/app, Vue) is built by Vite into server/workbench/dist, which the
# app serves; built again only when a source, the Vite config or the lock file is newer.
WORKBENCH=server/workbench
if [ ! -f "$WORKBENCH/dist/index.html" ] \
        || [ -n "$(find "$WORKBENCH/app" "$WORKBENCH/vite.config.js" package-lock.json -newer "$WORKBENCH/dist/index.html" -print -quit)" ]; then
    log "building the workbench (Vite)"
    quiet "building the workbench (npx vite build)" npx --no-install vite build --config "$WORKBENCH/vite.config.js"
fi
log "setup done"
