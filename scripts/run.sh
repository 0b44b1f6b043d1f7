#!/usr/bin/env bash
# Set up everything, load the full demo county (first run only), and start the API server with
# its background worker. Runs in the background; `bash scripts/stop.sh` stops both.
#   PORT=8000          where the server listens
#   DEMO_SIZE=full     full | medium | small | tiny
#   RELOAD_DEMO=1      wipe and reload the demo county
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8000}
DEMO_SIZE=${DEMO_SIZE:-full}
bash scripts/setup.sh
set -a; . instance/notoneless.env; set +a
# The demo county's notices are signed as Hai'an's would be; a county sets its own names in
# instance/notoneless.env (README, Configuration).
export COUNTY_NAME=${COUNTY_NAME:-海安市} NOTICE_NUMBER_PREFIX=${NOTICE_NUMBER_PREFIX:-海安教}
CLI=.venv/bin/notoneless
log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

bash scripts/stop.sh >/dev/null 2>&1 || true
log "migrating the database"
.venv/bin/alembic upgrade head

loaded=$(.venv/bin/python - <<'PY'
import os, psycopg
url = os.environ["DATABASE_URL"].replace("+psycopg", "")
with psycopg.connect(url) as conn:
    print(conn.execute("select count(*) from towns").fetchone()[0])
PY
)
if [ "$loaded" = 0 ] || [ "${RELOAD_DEMO:-0}" = 1 ]; then
    log "loading the $DEMO_SIZE demo county (Hai'an-like; every account's password is demo-password)"
    start=$(date +%s)
    # Places, households and accounts; the children come the way a bureau's would: the police
    # roster and the schools' registers, imported and cross-matched (bad rows reported).
    "$CLI" demo load --size "$DEMO_SIZE" --replace --no-children
    "$CLI" demo write-files --size "$DEMO_SIZE" --out var/demo --later-register
    "$CLI" import roster var/demo/police_roster.csv --now
    "$CLI" import register var/demo/school_register.csv --as-of 2027-05-20 --now
    "$CLI" import register var/demo/school_register_later.csv --as-of 2027-06-20 --now
    # What the tablets would confirm in the field, so that cases, overdue ones and rates show.
    "$CLI" cases open-all --demo-field-results
    echo "demo county ready in $(( $(date +%s) - start )) s"
else
    log "the database already has a county; RELOAD_DEMO=1 reloads the demo"
fi

log "publishing the built-in survey forms"
"$CLI" forms publish-builtin

log "starting the worker and the server"
nohup "$CLI" worker > var/log/worker.log 2>&1 &
echo $! > var/run/worker.pid
nohup .venv/bin/gunicorn --bind "0.0.0.0:$PORT" --workers 2 --threads 4 --timeout 120 \
    --access-logfile var/log/access.log --error-logfile var/log/server.log --capture-output \
    --pid var/run/server.pid --daemon 'server:create_app()'

for _ in $(seq 1 60); do
    status=$(curl -fsS "http://127.0.0.1:$PORT/api/v1/health" 2>/dev/null | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["status"])' 2>/dev/null || true)
    [ "$status" = up ] && break
    sleep 1
done
curl -fsS "http://127.0.0.1:$PORT/api/v1/health"; echo
HOST=$(hostname -I 2>/dev/null | awk '{print $1}'); HOST=${HOST:-127.0.0.1}
# A fresh one-time code for the first demo surveyor's tablet, so a tablet can join right away.
VILLAGE=$(.venv/bin/python - <<'PY'
import os, psycopg
with psycopg.connect(os.environ["DATABASE_URL"].replace("+psycopg", "")) as conn:
    row = conn.execute("select min(v.code) from villages v join people p on p.town_code = v.town_code"
                       " where p.username = 'town01'").fetchone()
    print(row[0] or "")
PY
)
CODE=$("$CLI" devices issue-code --surveyor t01g01.s1 --by town01 2>/dev/null || echo "(no demo surveyor t01g01.s1)")
cat <<MSG

  Not One Less (一个都不少) is running.
    API docs:   http://$HOST:$PORT/api/docs   (OpenAPI: /api/openapi.json)
    Health:     http://$HOST:$PORT/api/v1/health
    Supervisor: http://$HOST:$PORT/supervisor/ (map, progress, conflicts, duplicates)
                http://$HOST:$PORT/cases/ (out-of-school cases, overdue ones, the three rates)
    Log in:     POST /api/v1/auth/login {"username": "city", "password": "demo-password"}
                other demo accounts: town01 .. town12 (town supervisors), t01g01.lead (a team
                leader), t01g01.s1 (a surveyor), school000001 (a school)
    Tablets:    enroll with the one-time code $CODE
                (POST http://$HOST:$PORT/api/v1/devices/enroll {"enrollment_code", "device_name"});
                a supervisor issues more with POST /api/v1/devices/enrollment-codes (QR image
                included) or: .venv/bin/notoneless devices issue-code --surveyor USER --by SUPERVISOR
    Try a drill of 5 simulated tablets on one village:
                .venv/bin/python -m mobile_contract.client.drill --server http://127.0.0.1:$PORT \\
                  --username town01 --password demo-password --village $VILLAGE --tablets 5 --edits 20
    Logs:       var/log/   Stop: bash scripts/stop.sh
MSG
