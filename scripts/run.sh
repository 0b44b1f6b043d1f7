#!/usr/bin/env bash
# Set up everything, load the full demo county (first run only), and start the API server with
# its background worker. Runs in the background; `bash scripts/stop.sh` stops both.
#   PORT=8000          where the server listens
#   BIND=127.0.0.1     the address it listens on: this machine only, behind the TLS proxy
#                      (compose.yaml, README); BIND=0.0.0.0 serves plain HTTP to the network
#   DEMO_SIZE=full     full | medium | small | tiny
#   RELOAD_DEMO=1      wipe and reload the demo county
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8000}
BIND=${BIND:-127.0.0.1}
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
    # A field week, as the tablets would leave it: surveyed GPS points, children's schooling and
    # disabilities, cases with their visits and steps (some overdue, some returned), and
    # conflicts and duplicate pairs waiting for town01.
    "$CLI" demo field-week --size "$DEMO_SIZE"
    echo "demo county ready in $(( $(date +%s) - start )) s"
else
    log "the database already has a county; RELOAD_DEMO=1 reloads the demo"
fi

log "publishing the built-in survey forms"
"$CLI" forms publish-builtin

log "starting the worker and the server"
nohup "$CLI" worker > var/log/worker.log 2>&1 &
echo $! > var/run/worker.pid
nohup .venv/bin/gunicorn --bind "$BIND:$PORT" --workers 2 --threads 4 --timeout 120 \
    --access-logfile var/log/access.log --logger-class server.access_log.RedactingLogger \
    --error-logfile var/log/server.log --capture-output \
    --pid var/run/server.pid --daemon 'server:create_app()'

# The health check in Python (the venv's): no curl needed. Reached from here whatever BIND is.
LOCAL=127.0.0.1; [ "$BIND" = 0.0.0.0 ] || LOCAL=$BIND
health() {
    .venv/bin/python - "http://$LOCAL:$PORT/api/v1/health" <<'PY'
import json, sys, urllib.error, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as answer:
        body = answer.read().decode()
except urllib.error.HTTPError as refused:
    body = refused.read().decode()
except OSError as exc:
    print(json.dumps({"status": "unreachable", "error": str(exc)}))
    sys.exit(1)
print(body)
sys.exit(0 if json.loads(body).get("status") == "up" else 1)
PY
}
up=0
for _ in $(seq 1 60); do
    if health >/dev/null 2>&1; then up=1; break; fi
    sleep 1
done
if [ "$up" != 1 ]; then
    health || true
    echo "The server did not come up: see var/log/server.log (it is still running; bash scripts/stop.sh stops it)." >&2
    exit 1
fi
health
HOST=$LOCAL
if [ "$BIND" = 0.0.0.0 ]; then HOST=$(hostname -I 2>/dev/null | awk '{print $1}'); HOST=${HOST:-127.0.0.1}; fi
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
# And an ODK Collect tablet for the same surveyor: its server URL, and the settings QR to scan.
COLLECT_URL=$("$CLI" devices collect --surveyor t01g01.s1 --by town01 --server "http://$HOST:$PORT" \
    --qr var/collect-qr.png 2>/dev/null || echo "(no demo surveyor t01g01.s1)")
cat <<MSG

  Not One Less (一个都不少) is running.
    API docs:   http://$HOST:$PORT/api/docs   (OpenAPI: /api/openapi.json)
    Health:     http://$HOST:$PORT/api/v1/health
    Workbench:  http://$HOST:$PORT/workbench/  (open it in a browser and log in)
                as city / demo-password (the bureau); other demo accounts: town01 .. town12
                (town supervisors), t01g01.lead (a team leader), school000001 (a school);
                t01g01.s1 is a surveyor (tablets only)
    Tablets:    enroll with the one-time code $CODE
                (POST http://$HOST:$PORT/api/v1/devices/enroll {"enrollment_code", "device_name"});
                a supervisor issues more with POST /api/v1/devices/enrollment-codes (QR image
                included) or: .venv/bin/notoneless devices issue-code --surveyor USER --by SUPERVISOR
    ODK Collect / KoboCollect: scan var/collect-qr.png in Collect (设置 > 项目 > 扫描二维码), or
                set the server URL by hand (no username or password):
                $COLLECT_URL
                more with POST /api/v1/devices/collect or .venv/bin/notoneless devices collect
    Try a drill of 5 simulated tablets on one village:
                .venv/bin/python -m mobile_contract.client.drill --server http://127.0.0.1:$PORT \\
                  --username town01 --password demo-password --village $VILLAGE --tablets 5 --edits 20
    Logs:       var/log/   Stop: bash scripts/stop.sh
MSG
