"""The supervisors' aggregates, unloaded, in-process, on the database DATABASE_URL names (the demo
county `scripts/run.sh` loads, after `notoneless demo field-week`), beside GET /health measured
in the same run.

    python bench/aggregates.py [--user city] [--runs 7]

Each endpoint is asked --runs times with the user's token (every demo password is
demo-password); printed: median and minimum ms, and the median as a multiple of /health's.
The first request of each endpoint is left out: it fills the kept village tallies and caches.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server import create_app  # noqa: E402

PATHS = ["/api/v1/health", "/api/v1/maps/villages", "/api/v1/maps/towns", "/api/v1/reports/rates?by=village",
         "/api/v1/reports/rates?by=town", "/api/v1/reports/accounted-for", "/api/v1/cases?limit=50"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", default="city")
    parser.add_argument("--password", default="demo-password")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    client = create_app().test_client()
    login = client.post("/api/v1/auth/login", json={"username": args.user, "password": args.password})
    if login.status_code != 200:
        sys.exit(f"cannot log in as {args.user}: {login.status_code}")
    headers = {"Authorization": f"Bearer {login.json['token']}"}
    baseline = None
    print(f"{'endpoint':45s} {'median ms':>10s} {'min ms':>8s} {'x health':>9s}")
    for path in PATHS:
        client.get(path, headers=headers)
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            answer = client.get(path, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 200:
                sys.exit(f"{path}: {answer.status_code}")
        median = statistics.median(times)
        baseline = baseline or median
        print(f"{path:45s} {median:10.1f} {min(times):8.1f} {median / baseline:9.1f}")


if __name__ == "__main__":
    main()
