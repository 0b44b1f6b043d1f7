#!/usr/bin/env bash
# Set up everything (scripts/setup.sh) and run the whole test suite against the real PostGIS
# and Redis. Extra arguments go to pytest, e.g. `bash scripts/test.sh -k scope -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
# The test superuser (it creates and drops the tests' databases) exists only where tests run.
NOTONELESS_TEST_ROLE=1 bash scripts/setup.sh
set -a; . instance/notoneless.env; set +a
exec .venv/bin/python -m pytest "$@"
