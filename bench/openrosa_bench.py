"""Benchmark of the OpenRosa submission endpoint, as ODK Collect uses it: one instance per request.

    python bench/openrosa_bench.py [--submissions 2000] [--clients 1]

Each client is an ODK Collect tablet (enrolled with POST /devices/collect) of its own team,
sending household-survey instances (multipart: xml_submission_file) that change one answer
of a household from its entity list, one request each, on a real server (gunicorn) over
loopback HTTP. The baseline, measured in the same run on the same database by the same number
of concurrent clients, is the bare minimum of a request that stores one submission: one
single-row INSERT of the submission and its commit (as in `bench/sync_bench.py push --batch 1`).
The ratio travels between machines; the absolute figures less so. Uses sync_bench's database
(notoneless_bench_sync, recreated): never run it beside sync_bench.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import csv
import io
import json
import random
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.sync_bench import Server, call, database_url, fresh_database, login, surveyors  # noqa: E402

BOUNDARY = "----notoneless-bench-boundary"


def multipart(xml: bytes) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"xml_submission_file\"; "
            f"filename=\"submission.xml\"\r\nContent-Type: text/xml\r\n\r\n").encode() + xml + \
        f"\r\n--{BOUNDARY}--\r\n".encode()


def post(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - loopback
    request.add_header("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    request.add_header("X-OpenRosa-Version", "1.0")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        error.read()
        return error.code


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 - loopback
        return response.read()


def instances(base: str, rng: random.Random, count: int) -> list[bytes]:
    """Household-survey instances as Collect fills them: prefilled from the entity list, one
    answer changed, the entity's id and versions as the form's calculations leave them."""
    from tests.openrosa.instances import instance

    listed = get(f"{base}/formList").decode()
    download = listed.split("<downloadUrl>")[1].split("</downloadUrl>")[0]
    forms = {}
    for entry in listed.split("<xform>")[1:]:
        forms[entry.split("<formID>")[1].split("</formID>")[0]] = entry.split("<downloadUrl>")[1].split("<")[0]
    xform = get(forms.get("household_survey", download)).decode()
    rows = list(csv.DictReader(io.StringIO(get(f"{base}/entity-lists/households.csv").decode())))
    out = []
    for n in range(count):
        row = rng.choice(rows)
        answers = {"household_pick": row["name"], "household/head_name": row["head_name"] or "户主",
                   "household/phone": f"139{rng.randrange(10**8):08d}", "household/address": row["address"],
                   "survey_status": row["survey_status"] or "visited", "notes": f"第{n}次走访"}
        out.append(instance(xform, answers, entity={
            "id": row["name"], "baseVersion": row["__version"], "trunkVersion": row["__version"],
            "branchId": str(uuid.uuid4())}, end=f"2026-05-28T10:{n // 1000 % 60:02d}:{n // 10 % 60:02d}.{n % 10}00+08:00"))
    return out


def bench(args) -> dict:
    fresh_database("medium")
    server = Server()
    try:
        city = login(server, "city")
        chosen, taken = [], set()
        for person in surveyors(server, city):
            if len(chosen) < args.clients and not taken & set(person["village_codes"]):
                chosen.append(person)
                taken |= set(person["village_codes"])
        rng = random.Random(3)
        clients = []
        for person in chosen:
            status, body, _, _ = call("POST", server.base + "/devices/collect",
                                      {"surveyor_id": person["id"], "device_name": "bench Collect"}, city)
            assert status == 201, body
            base = f"http://127.0.0.1:{server.port}{urlsplit(body['server_url']).path}"
            clients.append((base, [multipart(x) for x in instances(base, rng, args.submissions // args.clients)]))
        total = sum(len(bodies) for _, bodies in clients)

        def send_all(base, bodies):
            statuses = {}
            for body in bodies:
                status = post(f"{base}/submission", body)
                statuses[status] = statuses.get(status, 0) + 1
            return statuses

        dsn = database_url().replace("+psycopg", "")
        # Baseline: the same submissions, one single-row INSERT and commit each, by the same
        # number of concurrent clients (one transaction per request).
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS bench_rows (submission_id uuid PRIMARY KEY,"
                         " device_seq bigint, record_id uuid, payload jsonb)")
            conn.execute("TRUNCATE bench_rows")
        inserters = [psycopg.connect(dsn) for _ in clients]

        def insert_all(conn, rows):
            for row in rows:
                conn.execute("INSERT INTO bench_rows VALUES (%s, %s, %s, %s)", row)
                conn.commit()

        # The instances and their baseline take turns, a slice each (--rounds), as in
        # sync_bench.py: the machine's speed drifts within minutes. Each slice's baseline
        # inserts the submissions its instances became.
        seconds = insert_seconds = 0.0
        results, seen, inserted = [], set(), 0
        rounds = max(1, min(args.rounds, min(len(bodies) for _, bodies in clients)))
        with cf.ThreadPoolExecutor(len(clients)) as pool, psycopg.connect(dsn) as reader:
            for r in range(rounds):
                slices = [(base, bodies[r * len(bodies) // rounds:(r + 1) * len(bodies) // rounds])
                          for base, bodies in clients]
                started = time.perf_counter()
                results += list(pool.map(lambda c: send_all(*c), slices))
                seconds += time.perf_counter() - started
                payloads = [(row[0], row[1], row[2], json.dumps(row[3])) for row in reader.execute(
                    "SELECT submission_id, device_seq, record_id, payload FROM submissions").fetchall()
                    if row[0] not in seen]
                reader.commit()
                seen |= {row[0] for row in payloads}
                inserted += len(payloads)
                shares = [payloads[i::len(clients)] for i in range(len(clients))]
                started = time.perf_counter()
                list(pool.map(lambda pair: insert_all(*pair), zip(inserters, shares, strict=True)))
                insert_seconds += time.perf_counter() - started
        for conn in inserters:
            conn.close()
        by_status: dict[int, int] = {}
        for result in results:
            for k, v in result.items():
                by_status[k] = by_status.get(k, 0) + v
        stored = len(seen)
    finally:
        server.stop()
    rate, insert_rate = total / seconds, inserted / insert_seconds
    return {"clients": len(clients), "rounds": rounds, "instances": total, "answers": by_status, "stored": stored,
            "openrosa_per_s": round(rate, 1), "bare_insert_per_s": round(insert_rate, 1),
            "ratio_openrosa_to_insert": round(rate / insert_rate, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=10, help="the instances and their baseline take turns")
    print(json.dumps(bench(parser.parse_args()), ensure_ascii=False))


if __name__ == "__main__":
    main()
