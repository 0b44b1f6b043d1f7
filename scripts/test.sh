#!/usr/bin/env bash
# Set up everything (scripts/setup.sh) and run the whole test suite against the real PostGIS
# and Redis. Extra arguments go to pytest, e.g. `bash scripts/test.sh -k scope -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
set -a; . instance/notoneless.env; set +a
exec .venv/bin/python -m pytest "$@"
