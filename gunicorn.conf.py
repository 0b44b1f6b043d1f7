"""gunicorn's settings beside the command line's (gunicorn reads this file from its working
directory: scripts/run.sh, the Dockerfile and the benchmarks start it from here)."""

import sys

# A request thread that comes back from the database waits for the GIL until the thread
# holding it lets go: at most the switch interval, 5 ms by default, on every round trip. A
# supervisor's report makes about ten round trips while tablets' pushes keep the other threads
# busy; at 1 ms its wait is a fifth (bench/README, load runs).
SWITCH_INTERVAL = 0.001


def post_worker_init(worker):
    sys.setswitchinterval(SWITCH_INTERVAL)
