"""Benchmarks of the sync contract on a real server (gunicorn) over loopback HTTP.

    python bench/sync_bench.py push     [--submissions 20000] [--batch 100] [--clients 4]
    python bench/sync_bench.py push-one [--submissions 2000]   # --batch 1, --clients 1 then 4
    python bench/sync_bench.py pull     [--households 1000] [--children-per-household 3]
    python bench/sync_bench.py tablets  [--tablets 200] [--edits 10]
    python bench/sync_bench.py all

Every figure is reported beside a baseline measured in the same run on the same database
(these machines are shared and noisy; ratios travel, absolute numbers less so):
- push: committed submissions per second through HTTP (validation, field-level merge,
  conflicts, verbatim storage, receipts) against a bare batched INSERT of the same
  submissions into a plain table, with the same number of concurrent clients;
- push-one: the fixed cost of a request: the push bench with one submission per request (as
  ODK Collect sends them, and a tablet that syncs after every household), against one
  single-row INSERT and commit per submission, for one client and then four;
  (push and push-one: the push and its baseline take turns, --rounds slices of the work each,
  so that the machine's drift falls on both);
- pull: the first full pull of one big village against a raw SELECT of the same rows; a pull
  with no changes against the full pull; gzipped bytes per household;
- tablets: N tablets, each holding its scope already, syncing a day's work at once (manifest,
  push, pull of what changed): p95 latency per endpoint and the error count.
It uses a database of its own (notoneless_bench_sync, recreated) and a free local port.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures as cf
import datetime as dt
import gzip
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402

DB = "notoneless_bench_sync"
ADMIN_DSN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@/postgres")
PASSWORD = "bench-password"  # noqa: S105 - the bench county's accounts


def keys() -> dict:
    return {"SECRET_KEY": "bench", "ID_NUMBER_KEY": base64.b64encode(b"n" * 32).decode(),
            "ID_LOOKUP_KEY": base64.b64encode(b"m" * 32).decode()}


def database_url() -> str:
    return f"postgresql+psycopg://postgres@/{DB}"


def fresh_database(size: str) -> None:
    """Recreate, migrate, load a demo county and publish the forms."""
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    os.environ["DATABASE_URL"] = database_url()
    command.upgrade(cfg, "head")
    from server import create_app
    from server.demo import generator, loader
    from server.forms import service as forms_service

    app = create_app({**keys(), "DATABASE_URL": database_url()})
    with app.app_context(), app.extensions["notoneless.db"].sessionmaker() as session:
        loader.load(session, generator.generate(size, seed=11), app.extensions["notoneless.vault"], PASSWORD)
        forms_service.publish_builtin(session)
        session.commit()
    app.extensions["notoneless.db"].engine.dispose()


class Server:
    """gunicorn on a free loopback port, as scripts/run.sh starts it."""

    def __init__(self, workers: int = 2, threads: int = 8):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {**os.environ, **keys(), "DATABASE_URL": database_url(), "REDIS_URL": "redis://127.0.0.1:6379/14"}
        self.process = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-w", str(workers), "--threads", str(threads), "-b",
             f"127.0.0.1:{self.port}", "--log-level", "warning", "server:create_app()"],
            cwd=ROOT, env=env)
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        for _ in range(100):
            try:
                urllib.request.urlopen(self.base + "/health", timeout=10)  # noqa: S310 - loopback
                return
            except OSError:  # refused while booting, or slow to answer the first time
                time.sleep(0.3)
        raise RuntimeError("server did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=20)


def call(method: str, url: str, body=None, token: str | None = None, gzip_ok: bool = False):
    """One HTTP call; returns (status, parsed body, response bytes on the wire, seconds)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if gzip_ok:
        request.add_header("Accept-Encoding", "gzip")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            raw = response.read()
            status = response.status
            encoding = response.headers.get("Content-Encoding")
    except urllib.error.HTTPError as error:
        raw, status, encoding = error.read(), error.code, error.headers.get("Content-Encoding")
    elapsed = time.perf_counter() - started
    text = gzip.decompress(raw) if encoding == "gzip" else raw
    return status, (json.loads(text) if text else None), len(raw), elapsed


def login(server: Server, username: str) -> str:
    status, body, _, _ = call("POST", server.base + "/auth/login", {"username": username, "password": PASSWORD})
    assert status == 200, body
    return body["token"]


def surveyors(server: Server, token: str) -> list[dict]:
    return call("GET", server.base + "/devices/surveyors", token=token)[1]


def enroll(server: Server, city: str, surveyor_id: int) -> str:
    status, code, _, _ = call("POST", server.base + "/devices/enrollment-codes", {"surveyor_id": surveyor_id}, city)
    assert status == 201, code
    status, device, _, _ = call("POST", server.base + "/devices/enroll",
                                {"enrollment_code": code["enrollment_code"], "device_name": "bench"})
    assert status == 200, device
    return device["token"]


def pull(server: Server, token: str, cursor: str | None = None, limit: int = 1000, gzip_ok: bool = False):
    """Page to the end: (records by key, cursor, pages, wire bytes, seconds)."""
    records, pages, wire, started = {}, 0, 0, time.perf_counter()
    while True:
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        status, body, size, _ = call("GET", server.base + "/sync/changes" + query, token=token, gzip_ok=gzip_ok)
        assert status == 200, body
        pages, wire = pages + 1, wire + size
        for change in body["changes"]:
            if change["op"] == "upsert":
                records[(change["record"]["type"], change["record"]["id"])] = change["record"]
        cursor = body["cursor"]
        if not body["has_more"]:
            return records, cursor, pages, wire, time.perf_counter() - started


STATUSES = ["enrolled", "dropped_out", "never_enrolled", "enrolled_unconfirmed", "home_teaching"]


def child_edit(rng: random.Random, record: dict, seq: int) -> dict:
    status = rng.choice(STATUSES)
    fields = {"enrollment_status": status, "grade": rng.randint(1, 9)}
    if status in ("dropped_out", "never_enrolled"):
        fields["dropout_reason"] = rng.choice(["weary_of_study", "poverty", "working"])
    return {"submission_id": str(uuid.uuid4()), "device_seq": seq, "form_id": "child_survey", "form_version": "2026.1",
            "captured_at": dt.datetime.now(dt.UTC).isoformat(), "location": None,
            "record": {"type": "child", "id": record["id"], "base_version": record["version"],
                       "household_id": record["household_id"], "village_code": record["village_code"],
                       "fields": fields}, "attachments": []}


def bench_push(args) -> dict:
    fresh_database("medium")
    server = Server()
    try:
        city = login(server, "city")
        people = surveyors(server, city)
        rng = random.Random(1)
        # One tablet per client, each on a team of its own (no two share a village): this
        # measures throughput; contention between tablets of one village is the drill's and
        # the e2e tests' business.
        chosen, taken = [], set()
        for p in people:
            if len(chosen) < args.clients and not taken & set(p["village_codes"]):
                chosen.append(p)
                taken |= set(p["village_codes"])
        tablets = []
        for person in chosen:
            token = enroll(server, city, person["id"])
            records, _, _, _, _ = pull(server, token)
            children = [r for r in records.values() if r["type"] == "child"]
            per_client = args.submissions // args.clients
            batches, seq = [], 0
            for start in range(0, per_client, args.batch):
                batch = []
                for _ in range(min(args.batch, per_client - start)):
                    seq += 1
                    batch.append(child_edit(rng, rng.choice(children), seq))
                batches.append(batch)
            tablets.append((token, batches))
        total = sum(len(b) for _, batches in tablets for b in batches)

        def push_all(token, batches):
            statuses = {}
            for batch in batches:
                status, body, _, _ = call("POST", server.base + "/sync/push", {"submissions": batch}, token)
                assert status == 200, body
                for receipt in body["receipts"]:
                    statuses[receipt["status"]] = statuses.get(receipt["status"], 0) + 1
            return statuses

        # Baseline: the same submissions, INSERTed as rows in batches of the same size by the
        # same number of concurrent clients, one transaction per batch (as one per request).
        with psycopg.connect(database_url().replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("CREATE UNLOGGED TABLE IF NOT EXISTS bench_rows (submission_id uuid PRIMARY KEY,"
                         " device_seq bigint, record_id uuid, payload jsonb)")
            conn.execute("ALTER TABLE bench_rows SET LOGGED")
            conn.execute("TRUNCATE bench_rows")
        inserters = [psycopg.connect(database_url().replace("+psycopg", "")) for _ in tablets]

        def insert_all(conn, batches):
            for batch in batches:
                with conn.cursor() as cur:
                    cur.executemany("INSERT INTO bench_rows VALUES (%s, %s, %s, %s)", [
                        (s["submission_id"], s["device_seq"], s["record"]["id"], json.dumps(s)) for s in batch])
                conn.commit()

        # The push and its baseline take turns, a slice of the work each (--rounds): this
        # machine's speed drifts by a third within minutes (shared hosts), and a baseline
        # measured a minute after the push moved the ratio as much as any change did.
        push_seconds = insert_seconds = 0.0
        results = []
        rounds = max(1, min(args.rounds, min(len(b) for _, b in tablets)))
        with cf.ThreadPoolExecutor(len(tablets)) as pool:
            for r in range(rounds):
                slices = [(token, batches[r * len(batches) // rounds:(r + 1) * len(batches) // rounds])
                          for token, batches in tablets]
                started = time.perf_counter()
                results += list(pool.map(lambda t: push_all(*t), slices))
                push_seconds += time.perf_counter() - started
                started = time.perf_counter()
                list(pool.map(lambda pair: insert_all(pair[0], pair[1][1]), zip(inserters, slices, strict=True)))
                insert_seconds += time.perf_counter() - started
        for conn in inserters:
            conn.close()
        by_status = {}
        for result in results:
            for k, v in result.items():
                by_status[k] = by_status.get(k, 0) + v
        with psycopg.connect(database_url().replace("+psycopg", "")) as conn:
            stored = conn.execute("SELECT count(*) FROM submissions").fetchone()[0]
    finally:
        server.stop()
    push_rate, insert_rate = total / push_seconds, total / insert_seconds
    requests = sum(len(batches) for _, batches in tablets)
    return {"batch": args.batch, "clients": len(tablets), "rounds": rounds, "submissions": total, "stored": stored,
            "receipts": by_status, "push_per_s": round(push_rate), "bare_insert_per_s": round(insert_rate),
            "ratio_push_to_insert": round(push_rate / insert_rate, 3),
            # per request (one batch: an INSERT and its commit for the baseline), as one client sees it
            "ms_per_push_request": round(push_seconds * 1000 * len(tablets) / requests, 2),
            "ms_per_insert_batch": round(insert_seconds * 1000 * len(tablets) / requests, 2)}


def make_big_village(households: int, per_household: int) -> tuple[str, int]:
    """Add a village of the requested size to the bench county; return its code and surveyor."""
    from server import create_app
    from server.accounts.models import Person, Team, team_members, team_villages
    from server.accounts.passwords import hash_password
    from server.people import id_number
    from server.people.protection import child_subject

    app = create_app({**keys(), "DATABASE_URL": database_url()})
    vault = app.extensions["notoneless.vault"]
    rng = random.Random(5)
    with psycopg.connect(database_url().replace("+psycopg", "")) as conn:
        town = conn.execute("SELECT code FROM towns ORDER BY code LIMIT 1").fetchone()[0]
        code = town[:9] + "999"
        conn.execute("INSERT INTO villages (code, town_code, name, boundary, centroid) SELECT %s, %s, '大样本村',"
                     " boundary, centroid FROM villages WHERE town_code = %s ORDER BY code LIMIT 1", (code, town, town))
        with conn.cursor() as cur:
            with cur.copy("COPY households (id, village_code, household_number, head_name, address, location,"
                          " location_approximate) FROM STDIN") as copy:
                ids = [uuid.uuid4() for _ in range(households)]
                for i, hid in enumerate(ids):
                    copy.write_row((hid, code, f"B{i:06d}", f"户主{i}", f"大样本村{i}号",
                                    f"SRID=4326;POINT({120.4 + rng.random() / 50} {32.5 + rng.random() / 50})", False))
            with cur.copy("COPY children (id, household_id, village_code, name, gender, birth_date,"
                          " id_number_cipher, id_number_lookup, enrollment_status) FROM STDIN") as copy:
                for i, hid in enumerate(ids):
                    for k in range(per_household):
                        birth = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(2500))
                        number = id_number.make("320685", birth, (i * per_household + k) % 998 + 1)
                        child_id = uuid.uuid4()
                        copy.write_row((child_id, hid, code, f"儿童{i}-{k}", "MF"[k % 2], birth,
                                        vault.encrypt(number, child_subject(child_id)), vault.lookup(number),
                                        "enrolled_unconfirmed"))
        conn.commit()
    with app.app_context(), app.extensions["notoneless.db"].sessionmaker() as session:
        person = Person(username="big.s1", full_name="大样本调查员", role="surveyor", line="government",
                        town_code=town, password_hash=hash_password(PASSWORD))
        session.add(person)
        session.flush()
        team = Team(name="大样本工作组", town_code=town, line="government", leader_id=person.id)
        session.add(team)
        session.flush()
        session.execute(team_members.insert().values(team_id=team.id, person_id=person.id))
        session.execute(team_villages.insert().values(team_id=team.id, village_code=code))
        session.commit()
        person_id = person.id
    app.extensions["notoneless.db"].engine.dispose()
    return code, person_id


def bench_pull(args) -> dict:
    fresh_database("tiny")
    code, person_id = make_big_village(args.households, args.children_per_household)
    server = Server()
    try:
        token = enroll(server, login(server, "city"), person_id)
        pull(server, token)  # warm the server's caches and the database's buffers once
        fulls, nones, sizes = [], [], []
        for _ in range(args.repeat):
            records, cursor, pages, wire, seconds = pull(server, token, gzip_ok=True)
            fulls.append(seconds)
            sizes.append(wire)
            _, _, _, _, idle = pull(server, token, cursor)
            nones.append(idle)
        raw, as_json = [], []
        with psycopg.connect(database_url().replace("+psycopg", "")) as conn:
            for _ in range(args.repeat):
                started = time.perf_counter()
                conn.execute("SELECT * FROM households WHERE village_code = %s", (code,)).fetchall()
                conn.execute("SELECT * FROM children WHERE village_code = %s", (code,)).fetchall()
                raw.append(time.perf_counter() - started)
                started = time.perf_counter()
                conn.execute("SELECT to_jsonb(h) FROM households h WHERE village_code = %s", (code,)).fetchall()
                conn.execute("SELECT to_jsonb(c) FROM children c WHERE village_code = %s", (code,)).fetchall()
                as_json.append(time.perf_counter() - started)
    finally:
        server.stop()
    full, none, select = statistics.median(fulls), statistics.median(nones), statistics.median(raw)
    select_json = statistics.median(as_json)
    return {"records": len(records), "pages": pages, "full_pull_s": round(full, 3), "raw_select_s": round(select, 3),
            "ratio_pull_to_select": round(full / select, 2), "raw_select_as_json_s": round(select_json, 3),
            "ratio_pull_to_select_as_json": round(full / select_json, 2), "no_change_pull_s": round(none, 4),
            "no_change_share_of_full": round(none / full, 4),
            "gzip_bytes_per_household": round(statistics.median(sizes) / args.households)}


def bench_tablets(args) -> dict:
    fresh_database("medium")
    server = Server(workers=2, threads=16)
    try:
        city = login(server, "city")
        people = surveyors(server, city)
        tokens = [enroll(server, city, people[i % len(people)]["id"]) for i in range(args.tablets)]
        latencies: dict[str, list[float]] = {}
        errors: dict[str, int] = {}

        def note(name, status, seconds):
            latencies.setdefault(name, []).append(seconds)
            if status >= 400:
                errors[name] = errors.get(name, 0) + 1

        # Before the measured part: every tablet has its scope (the first pull happens once, at
        # enrollment, in the office on Wi-Fi); then all of them sync a day's work at once.
        prepared = []
        with cf.ThreadPoolExecutor(8) as pool:
            for token, (records, cursor, _, _, _) in zip(tokens, pool.map(lambda t: pull(server, t), tokens),
                                                         strict=True):
                prepared.append((token, records, cursor))

        def one_tablet(index_prepared):
            index, (token, records, cursor) = index_prepared
            rng = random.Random(index)
            status, _, _, seconds = call("GET", server.base + "/sync/manifest", token=token)
            note("manifest", status, seconds)
            children = [r for r in records.values() if r["type"] == "child"]
            batch = [child_edit(rng, rng.choice(children), seq) for seq in range(1, args.edits + 1)]
            status, _, _, seconds = call("POST", server.base + "/sync/push", {"submissions": batch}, token)
            note("push", status, seconds)
            while True:
                status, body, _, seconds = call("GET", server.base + f"/sync/changes?cursor={cursor}", token=token,
                                                gzip_ok=True)
                note("changes", status, seconds)
                if status != 200 or not body["has_more"]:
                    break
                cursor = body["cursor"]

        started = time.perf_counter()
        with cf.ThreadPoolExecutor(args.concurrency or args.tablets) as pool:
            list(pool.map(one_tablet, enumerate(prepared)))
        wall = time.perf_counter() - started
    finally:
        server.stop()

    def p95(values):
        return round(statistics.quantiles(values, n=20)[-1], 3) if len(values) >= 2 else round(values[0], 3)

    return {"tablets": args.tablets, "wall_s": round(wall, 1),
            "p95_s": {k: p95(v) for k, v in latencies.items()},
            "median_s": {k: round(statistics.median(v), 3) for k, v in latencies.items()},
            "requests": {k: len(v) for k, v in latencies.items()}, "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("which", choices=["push", "push-one", "pull", "tablets", "all"])
    parser.add_argument("--submissions", type=int, default=None, help="push: 20000; push-one: 2000")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--households", type=int, default=1000)
    parser.add_argument("--children-per-household", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=10,
                        help="push, push-one: the push and its baseline take turns, a slice each")
    parser.add_argument("--tablets", type=int, default=200)
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=0, help="tablets: at most this many at once (0: all)")
    args = parser.parse_args()
    if args.submissions is None:
        args.submissions = 2000 if args.which == "push-one" else 20000
    if args.which == "push-one":
        for clients in (1, 4):
            one = argparse.Namespace(**{**vars(args), "batch": 1, "clients": clients})
            print("push-one", json.dumps(bench_push(one), ensure_ascii=False), flush=True)
    runs = {"push": bench_push, "pull": bench_pull, "tablets": bench_tablets}
    for name in (["push", "pull", "tablets"] if args.which == "all" else [args.which] if args.which in runs else []):
        print(name, json.dumps(runs[name](args), ensure_ascii=False), flush=True)
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
