"""Load test: field tablets and supervisors against a running server, over loopback HTTP.

    python bench/load.py [--url http://127.0.0.1:8000] [--duration 300] [--tablets 200]
                         [--supervisors 20] [--out var/load.json]

It runs against a server that `scripts/run.sh` started (the demo county, every password
demo-password) and changes that county's data the way a field day would (RELOAD_DEMO=1
resets it). Standard library only: one thread per simulated tablet or supervisor, each with
its own HTTP connection, so nothing is shared between actors but the server.

Setup (not measured): the town supervisors log in, list their surveyors and issue one
enrollment code per tablet (POST /devices/enrollment-codes); each tablet enrolls
(POST /devices/enroll). Tablets go to surveyors round-robin over towns, then lines and teams,
so they cover every town and both lines of teams (双线控辍) and, as in the field, tablets of
the two lines share villages.

The load model (think times compressed about tenfold from a real field day, so that 200
tablets make a meaningful load in minutes):
- a tablet starts at a random moment of the first --ramp seconds, fetches the manifest and
  pulls its whole scope (GET /sync/changes without a cursor, paged by 500: "full"); then, until
  the end, it repeats a cycle: think 2-10 s (one household visit), push 1-5 submissions about
  one household of its scope (survey status, vulnerable family types, a child's enrollment
  status, a follow-up visit, now and then a new child; all valid for the built-in forms), pull
  what changed since its cursor ("incremental"), and one cycle in five the manifest. Each
  cycle is one connection, as a tablet on a mobile network would open. Submissions refused
  for timing (sync.retry, sync.unknown_reference) stay in the tablet's outbox for the next
  cycle; any other refusal is counted as a rejection.
- a supervisor (the 12 town supervisors, then team leaders of other towns and lines) logs in
  once, loads the page (/me, /maps/villages, /maps/households of its whole scope, open
  conflicts), then repeats: think 2-8 s, one of: a street-level map view (6 household tiles at
  z14 around a village; the browser's tile cache is honoured: max-age 60 s, then
  If-None-Match, so 304 is an expected answer), a town overview (4 village tiles at z12), the
  village choropleth, one village's households then one household opened, the conflicts list,
  the rates report by village, the cases list (sometimes only the overdue ones), a village's
  children.
- a probe asks GET /health once a second (no login): the baseline, measured in the same run on
  the same machine, against which the other latencies can be read as ratios.

Reported: per endpoint (paths with ids and codes as placeholders) the requests, errors (an
answer other than 2xx/304, a lost connection or a timeout), p50, p95, p99 and max in ms, for
the whole run and for the steady part (after the last tablet's first full pull); totals and
requests per second; push receipts by status and rejection codes; the machine (CPU seconds by
process name, load average); and, after the run, the sessions of the server's database that are
"idle in transaction": the exit status is 1 if there is any (or if any request failed with
--strict).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import http.client
import json
import math
import os
import random
import re
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "demo-password"  # noqa: S105 - the demo county's accounts (server/demo)
API = "/api/v1"

# Choices of the built-in forms (survey_forms/builtin.py), as the drill uses them.
SURVEY_STATUSES = ("visited", "visited", "confirmed")
VULNERABLE_FAMILY_TYPES = ("single_parent", "poor", "parent_disabled", "parents_away", "raised_by_relatives")
OUT_OF_SCHOOL = ("suspected_out_of_school", "never_enrolled", "dropped_out")
DROPOUT_REASONS = ("weary_of_study", "poverty", "working", "health_disability", "family_crisis")
SCHOOLS = ("海安市墩头镇中心小学", "海安市墩头镇初级中学", "海安市城南实验小学", "海安市实验初级中学")
VISIT_OUTCOMES = ("persuaded", "refused", "not_found", "returned")
SURNAMES = "陈王张李刘徐周吴朱孙"
GIVEN = ("思雨", "浩然", "子涵", "欣怡", "宇轩", "梓萱", "俊杰", "雨桐", "一诺", "嘉怡")
SETTLED = ("applied", "merged", "conflict", "duplicate")
RETRY_CODES = frozenset({"sync.retry", "sync.unknown_reference"})
PAGE = 500
TIMEOUT = 60.0

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NUMBER_RE = re.compile(r"/\d+(?=/|\.|$)")


def endpoint_name(method: str, path: str, tag: str | None = None) -> str:
    """Name a request by method and path, ids and codes as placeholders, without the query."""
    path = path.split("?", 1)[0]
    if path.startswith(API):
        path = path[len(API):]
    path = UUID_RE.sub("{id}", path)
    if path.startswith("/tiles/"):
        path = re.sub(r"^/tiles/(\w+)/\d+/\d+/\d+\.mvt$", r"/tiles/\1/{z}/{x}/{y}.mvt", path)
    path = NUMBER_RE.sub("/{n}", path)
    return f"{method} {path}" + (f" ({tag})" if tag else "")


# -- recording ---------------------------------------------------------------------------------


class Recorder:
    """Latencies, statuses and errors per endpoint, from many threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.samples: dict[str, list[tuple[float, float]]] = defaultdict(list)  # (at, seconds)
        self.errors: dict[str, list[float]] = defaultdict(list)  # at
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.error_samples: dict[str, list[str]] = defaultdict(list)
        self.reconnects = 0
        self.receipts: Counter = Counter()
        self.rejections: Counter = Counter()
        self.rejection_samples: list[dict] = []
        self.counters: Counter = Counter()

    def note(self, name: str, seconds: float, status: int | str, error: str | None) -> None:
        at = time.monotonic()
        with self.lock:
            self.samples[name].append((at, seconds))
            self.statuses[name][str(status)] += 1
            if error is not None:
                self.errors[name].append(at)
                if len(self.error_samples[name]) < 5:
                    self.error_samples[name].append(error[:300])

    def count(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.counters[key] += n


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of a sorted list."""
    if not sorted_values:
        return float("nan")
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def summarise(recorder: Recorder, since: float | None = None, until: float | None = None) -> dict:
    """Per endpoint: requests, errors, p50/p95/p99/max in ms; and the totals."""
    rows, every = {}, []
    for name in recorder.samples:
        values = sorted(s for at, s in recorder.samples[name]
                        if (since is None or at >= since) and (until is None or at <= until))
        errors = sum(1 for at in recorder.errors.get(name, [])
                     if (since is None or at >= since) and (until is None or at <= until))
        if not values:
            continue
        every.extend(values)
        rows[name] = {"requests": len(values), "errors": errors,
                      "p50_ms": round(percentile(values, 0.50) * 1000, 1),
                      "p95_ms": round(percentile(values, 0.95) * 1000, 1),
                      "p99_ms": round(percentile(values, 0.99) * 1000, 1),
                      "max_ms": round(values[-1] * 1000, 1)}
    every.sort()
    totals = {"requests": len(every), "errors": sum(r["errors"] for r in rows.values()),
              "p50_ms": round(percentile(every, 0.50) * 1000, 1) if every else None,
              "p95_ms": round(percentile(every, 0.95) * 1000, 1) if every else None,
              "p99_ms": round(percentile(every, 0.99) * 1000, 1) if every else None}
    return {"endpoints": rows, "totals": totals}


# -- HTTP ----------------------------------------------------------------------------------------


class Client:
    """One actor's connection: JSON in and out, gzip both ways, latency noted per request."""

    def __init__(self, base: str, recorder: Recorder, token: str | None = None):
        parsed = urllib.parse.urlsplit(base)
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.recorder = recorder
        self.token = token
        self.conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _send(self, method, path, body, headers):
        reused = self.conn is not None
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            return response.status, response.getheaders(), response.read()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self.close()
            if not reused:
                raise
            # The server closed an idle keep-alive connection as we reused it (nothing was
            # handled): open a new one, as any HTTP client does. Counted, not an error.
            self.recorder.count("reconnects")
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            return response.status, response.getheaders(), response.read()

    def call(self, method: str, path: str, payload=None, *, name: str | None = None, tag: str | None = None,
             headers: dict | None = None, ok: tuple[int, ...] = (), record: bool = True):
        """Send one request; return (status, decoded JSON or bytes, headers); None status on failure."""
        url = API + path
        all_headers = {"Accept-Encoding": "gzip", "Accept": "application/json"}
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        all_headers.update(headers or {})
        body = None
        if payload is not None:
            body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
            all_headers["Content-Type"] = "application/json; charset=utf-8"
            if len(body) > 1024:  # as the reference client: gzip what is worth it
                body = gzip.compress(body, mtime=0)
                all_headers["Content-Encoding"] = "gzip"
        name = name or endpoint_name(method, url, tag)
        started = time.perf_counter()
        try:
            status, response_headers, raw = self._send(method, url, body, all_headers)
        except TimeoutError as error:
            self.close()
            if record:
                self.recorder.note(name, time.perf_counter() - started, "timeout", f"timeout: {error}")
            return None, None, {}
        except (OSError, http.client.HTTPException) as error:
            self.close()
            if record:
                self.recorder.note(name, time.perf_counter() - started, "exception", f"{type(error).__name__}: {error}")
            return None, None, {}
        elapsed = time.perf_counter() - started
        response_headers = {k.lower(): v for k, v in response_headers}
        if response_headers.get("content-encoding") == "gzip":
            raw = gzip.decompress(raw)
        data = raw
        if raw and response_headers.get("content-type", "").split(";")[0].strip() in (
                "application/json", "application/geo+json", "application/problem+json"):
            try:
                data = json.loads(raw)
            except ValueError:
                data = raw
        good = 200 <= status < 300 or status == 304 or status in ok
        if record:
            self.recorder.note(name, elapsed, status, None if good else f"{status}: {raw[:300]!r}")
        if response_headers.get("connection", "").lower() == "close":
            self.close()
        return status, data, response_headers


# -- setup ---------------------------------------------------------------------------------------


def login(base: str, recorder: Recorder, username: str, *, record: bool = True) -> Client:
    client = Client(base, recorder)
    status, body, _ = client.call("POST", "/auth/login", {"username": username, "password": PASSWORD},
                                  record=record)
    if status != 200:
        raise SystemExit(f"cannot log in as {username}: {status} {body!r}")
    client.token = body["token"]
    client.person = body.get("person") or {}
    return client


def choose_surveyors(by_town: dict[str, list[dict]], n: int) -> list[dict]:
    """Round-robin over towns; within a town, over lines and teams (first member, then second)."""
    queues = []
    for town in sorted(by_town):
        people = sorted(by_town[town], key=lambda p: (p["username"].split(".")[-1], p["username"]))
        queues.append(people)
    chosen, i = [], 0
    while len(chosen) < n and any(queues):
        for queue in queues:
            if i < len(queue) and len(chosen) < n:
                chosen.append(queue[i])
        i += 1
        if i > max(len(q) for q in queues):
            i = 0  # more tablets than surveyors: some surveyors get a second tablet
    return chosen


def set_up(args, recorder: Recorder) -> tuple[list[dict], list[str]]:
    """Enroll the tablets; return their (surveyor, token) and the supervisor usernames."""
    import concurrent.futures as cf

    towns = [f"town{i:02d}" for i in range(1, 13)]
    issuers: dict[str, Client] = {}
    by_town: dict[str, list[dict]] = {}
    for username in towns:
        client = login(args.url, recorder, username, record=False)
        status, people, _ = client.call("GET", "/devices/surveyors", record=False)
        if status != 200:
            raise SystemExit(f"{username} cannot list surveyors: {status} {people!r}")
        issuers[username] = client
        by_town[username] = [p for p in people if p.get("village_codes")]
    chosen = choose_surveyors(by_town, args.tablets)
    town_of = {p["id"]: t for t, people in by_town.items() for p in people}

    def enroll(index_person):
        index, person = index_person
        issuer = Client(args.url, recorder, issuers[town_of[person["id"]]].token)
        status, code, _ = issuer.call("POST", "/devices/enrollment-codes", {"surveyor_id": person["id"]},
                                      tag="setup")
        issuer.close()
        if status != 201:
            raise SystemExit(f"cannot issue a code for {person['username']}: {status} {code!r}")
        device = Client(args.url, recorder)
        status, answer, _ = device.call("POST", "/devices/enroll", {
            "enrollment_code": code["enrollment_code"], "platform": "bench-load",
            "device_name": f"压测平板{index + 1}（{person['full_name']}）"}, tag="setup")
        device.close()
        if status != 200:
            raise SystemExit(f"cannot enroll a tablet for {person['username']}: {status} {answer!r}")
        return {"surveyor": person, "token": answer["token"], "device_id": answer["device_id"]}

    with cf.ThreadPoolExecutor(8) as pool:
        tablets = list(pool.map(enroll, enumerate(chosen)))
    for client in issuers.values():
        client.close()

    supervisors = towns[:args.supervisors]
    # Then team leaders, spread over towns and lines, that no tablet's setup needed.
    leaders = [f"t{t:02d}{line}{k:02d}.lead" for k in (1, 2, 3) for t in range(1, 13) for line in "gs"]
    supervisors += leaders[:max(0, args.supervisors - len(supervisors))]
    return tablets, supervisors


# -- tablets -------------------------------------------------------------------------------------


class Tablet:
    """A field tablet: its scope in memory, an outbox, a cursor."""

    def __init__(self, number: int, enrolled: dict, args, recorder: Recorder, deadline: float, stats: dict):
        self.number = number
        self.surveyor = enrolled["surveyor"]
        self.client = Client(args.url, recorder, enrolled["token"])
        self.recorder = recorder
        self.deadline = deadline
        self.stats = stats
        self.rng = random.Random(args.seed * 100_003 + number)
        self.households: dict[str, dict] = {}
        self.children: dict[str, dict] = {}
        self.children_of: dict[str, set[str]] = defaultdict(set)
        self.cursor: str | None = None
        self.forms: dict[str, str] = {}
        self.villages: set[str] = set()
        self.outbox: list[dict] = []
        self.seq = 0
        self.page = PAGE

    def manifest(self) -> bool:
        status, body, _ = self.client.call("GET", "/sync/manifest")
        if status != 200:
            return False
        self.forms = {f["form_id"]: f["version"] for f in body.get("forms", [])}
        self.villages = {v["code"] for v in body.get("villages", [])}
        self.page = min(PAGE, int((body.get("limits") or {}).get("max_page_size") or PAGE))
        return True

    def apply(self, change: dict) -> None:
        op = change.get("op")
        if op == "upsert":
            record = change["record"]
            kind, rid = record["type"], record["id"]
            if kind == "household":
                fields = record.get("fields") or {}
                location = fields.get("location") or {}
                self.households[rid] = {"version": record["version"], "village": record["village_code"],
                                        "lat": location.get("lat"), "lon": location.get("lon"),
                                        "vft": list(fields.get("vulnerable_family_types") or [])}
            elif kind == "child":
                old = self.children.get(rid)
                if old and old["household"] != record.get("household_id"):
                    self.children_of[old["household"]].discard(rid)
                self.children[rid] = {"version": record["version"], "household": record.get("household_id"),
                                      "village": record["village_code"]}
                self.children_of[record.get("household_id")].add(rid)
        elif op in ("delete", "scope_exit"):
            kind, rid = change.get("type"), change.get("id")
            if kind == "household":
                self.households.pop(rid, None)
            elif kind == "child":
                old = self.children.pop(rid, None)
                if old:
                    self.children_of[old["household"]].discard(rid)

    def pull(self, tag: str) -> bool:
        """Page through the changes since the cursor (all of the scope without one)."""
        while True:
            query = {"limit": self.page}
            if self.cursor:
                query["cursor"] = self.cursor
            status, body, _ = self.client.call("GET", "/sync/changes?" + urllib.parse.urlencode(query), tag=tag)
            if status != 200:
                return False
            for change in body.get("changes", []):
                self.apply(change)
            self.cursor = body.get("cursor") or self.cursor
            if not body.get("has_more"):
                return True

    def submission(self, form_id: str, record: dict, location: dict | None) -> dict:
        self.seq += 1
        return {"submission_id": str(uuid.uuid4()), "device_seq": self.seq, "form_id": form_id,
                "form_version": self.forms.get(form_id, "2026.1"),
                "captured_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                "location": location, "record": record, "attachments": []}

    def visit_household(self) -> None:
        """Queue 1-5 edits about one household of the scope, as one visit would make."""
        if not self.households:
            return
        rng = self.rng
        hid = rng.choice(list(self.households))
        household = self.households[hid]
        location = None
        if household["lat"] is not None:
            location = {"lat": round(household["lat"] + rng.uniform(-1e-4, 1e-4), 6),
                        "lon": round(household["lon"] + rng.uniform(-1e-4, 1e-4), 6),
                        "accuracy_m": rng.randint(4, 20)}
        kids = sorted(self.children_of.get(hid, ()))
        today = dt.date.today()
        for _ in range(rng.choices((1, 2, 3, 4, 5), weights=(20, 30, 25, 15, 10))[0]):
            kind = rng.choices(["survey_status", "vulnerable_family_types", "enrollment", "visit", "new_child"],
                               weights=[25, 10, 35, 20, 10])[0]
            if kind in ("enrollment", "visit") and not kids:
                kind = "survey_status"
            base = {"id": hid, "base_version": household["version"], "household_id": None,
                    "village_code": household["village"]}
            if kind == "survey_status":
                record = {"type": "household", **base, "fields": {"survey_status": rng.choice(SURVEY_STATUSES)}}
                self.outbox.append(self.submission("household_survey", record, location))
            elif kind == "vulnerable_family_types":
                current = set(household["vft"]) | {rng.choice(VULNERABLE_FAMILY_TYPES)}
                record = {"type": "household", **base, "fields": {"vulnerable_family_types": sorted(current)}}
                self.outbox.append(self.submission("household_survey", record, location))
            elif kind == "enrollment":
                cid = rng.choice(kids)
                child = self.children[cid]
                if rng.random() < 0.7:
                    fields = {"enrollment_status": "enrolled", "school_name": rng.choice(SCHOOLS),
                              "grade": rng.randint(1, 9), "dropout_reason": None}
                else:
                    fields = {"enrollment_status": rng.choice(OUT_OF_SCHOOL),
                              "dropout_reason": rng.choice(DROPOUT_REASONS), "school_name": None, "grade": None}
                record = {"type": "child", "id": cid, "base_version": child["version"], "household_id": hid,
                          "village_code": child["village"], "fields": fields}
                self.outbox.append(self.submission("child_survey", record, location))
            elif kind == "visit":
                cid = rng.choice(kids)
                # Yesterday: the form refuses a visit date after "today", and the server's
                # today may start later than the tablet's.
                record = {"type": "visit", "id": str(uuid.uuid4()), "base_version": None, "household_id": hid,
                          "child_id": cid, "village_code": self.children[cid]["village"], "fields": {
                              "visitors": self.surveyor["full_name"],
                              "visit_date": (today - dt.timedelta(days=1)).isoformat(),
                              "outcome": rng.choice(VISIT_OUTCOMES), "next_step": "revisit",
                              "note": "压测：劝返走访记录"}}
                self.outbox.append(self.submission("followup_visit", record, location))
            else:
                born = dt.date(2011, 9, 1) + dt.timedelta(days=rng.randint(0, 365 * 8))
                record = {"type": "child", "id": str(uuid.uuid4()), "base_version": None, "household_id": hid,
                          "village_code": household["village"], "fields": {
                              "name": rng.choice(SURNAMES) + rng.choice(GIVEN), "gender": rng.choice("MF"),
                              "birth_date": born.isoformat(), "enrollment_status": "enrolled",
                              "school_name": rng.choice(SCHOOLS), "grade": rng.randint(1, 9),
                              "disability": False, "left_behind": rng.random() < 0.3,
                              "migrant": rng.random() < 0.1}}
                self.outbox.append(self.submission("child_survey", record, location))

    def push(self) -> None:
        if not self.outbox:
            return
        batch = self.outbox
        status, body, _ = self.client.call("POST", "/sync/push", {"submissions": batch})
        if status != 200:
            return  # the outbox keeps everything for the next cycle
        keep = []
        for submission, receipt in zip(batch, body.get("receipts", []), strict=False):
            state = receipt.get("status")
            self.recorder.count(f"receipt.{state}")
            if state in SETTLED:
                continue
            codes = {e.get("code") for e in receipt.get("errors") or []}
            if codes and codes <= RETRY_CODES:
                keep.append(submission)
                for code in codes:
                    self.recorder.count(f"held.{code}")
                continue
            with self.recorder.lock:
                for code in codes or {"?"}:
                    self.recorder.rejections[code] += 1
                if len(self.recorder.rejection_samples) < 10:
                    self.recorder.rejection_samples.append({"record": submission["record"],
                                                            "errors": receipt.get("errors")})
        self.outbox = keep

    def run(self, start_at: float) -> None:
        sleep_until(start_at)
        began = time.monotonic()
        try:
            if not self.manifest() or not self.pull("full"):
                self.recorder.count("tablets_failed_initial")
                return
            self.client.close()
            with self.recorder.lock:
                self.stats["initial_done"] = max(self.stats.get("initial_done", 0), time.monotonic())
                self.stats["records"] = self.stats.get("records", 0) + len(self.households) + len(self.children)
                self.stats.setdefault("initial_s", []).append(time.monotonic() - began)
            while True:
                think = self.rng.uniform(2, 10)
                if time.monotonic() + think >= self.deadline:
                    break
                time.sleep(think)
                self.visit_household()
                self.push()
                self.pull("incremental")
                if self.rng.random() < 0.2:
                    self.manifest()
                self.client.close()
                self.recorder.count("tablet_cycles")
        finally:
            self.client.close()


# -- supervisors ---------------------------------------------------------------------------------


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


class Supervisor:
    """A supervisor at the map page, the review queues and the reports."""

    def __init__(self, number: int, username: str, args, recorder: Recorder, deadline: float):
        self.username = username
        self.args = args
        self.recorder = recorder
        self.deadline = deadline
        self.rng = random.Random(args.seed * 7919 + number)
        self.client: Client | None = None
        self.villages: list[dict] = []
        self.town: str | None = None
        self.tile_cache: dict[str, tuple[str, float]] = {}  # url -> (etag, fetched at)

    def get(self, path: str, **kwargs):
        return self.client.call("GET", path, **kwargs)

    def tiles(self, layer: str, z: int, lon: float, lat: float, width: int, height: int) -> None:
        cx, cy = tile_of(lon, lat, z)
        for dx in range(width):
            for dy in range(height):
                path = f"/tiles/{layer}/{z}/{cx - width // 2 + dx}/{cy - height // 2 + dy}.mvt"
                cached = self.tile_cache.get(path)
                now = time.monotonic()
                if cached and now - cached[1] < 60:
                    continue  # the browser's cache: private, max-age=60
                headers = {"If-None-Match": cached[0]} if cached else None
                status, _, response_headers = self.get(path, headers=headers, tag=f"z{z}")
                if status in (200, 304) and response_headers.get("etag"):
                    self.tile_cache[path] = (response_headers["etag"], now)

    def load_villages(self) -> None:
        status, body, _ = self.get("/maps/villages")
        if status == 200 and isinstance(body, dict):
            self.villages = [f["properties"] for f in body.get("features", [])
                             if f["properties"].get("lon") is not None]

    def households_of(self, village: str) -> list[str]:
        status, body, _ = self.get(f"/maps/households?village={village}")
        if status == 200 and isinstance(body, dict):
            return [f["properties"]["id"] for f in body.get("features", [])]
        return []

    def action(self) -> None:
        rng = self.rng
        village = rng.choice(self.villages) if self.villages else None
        kind = rng.choices(["street_map", "overview", "choropleth", "village_households", "conflicts",
                            "rates", "cases", "children"], weights=[20, 8, 8, 14, 16, 10, 14, 10])[0]
        if village is None and kind in ("street_map", "overview", "village_households", "children"):
            kind = "conflicts"
        if kind == "street_map":
            self.tiles("households", 14, village["lon"], village["lat"], 3, 2)
        elif kind == "overview":
            self.tiles("villages", 12, village["lon"], village["lat"], 2, 2)
        elif kind == "choropleth":
            self.load_villages()
        elif kind == "village_households":
            ids = self.households_of(village["code"])
            if ids:
                self.get(f"/maps/households/{rng.choice(ids)}")
        elif kind == "conflicts":
            self.get("/conflicts?status=open&page_size=100")
        elif kind == "rates":
            query = "by=village" + (f"&town={self.town}" if self.town else "")
            self.get(f"/reports/rates?{query}")
        elif kind == "cases":
            self.get("/cases?page_size=50" + ("&overdue=true" if rng.random() < 0.3 else ""))
        else:
            self.get(f"/children?village={village['code']}&page_size=50")

    def run(self, start_at: float) -> None:
        sleep_until(start_at)
        self.client = Client(self.args.url, self.recorder)
        status, body, _ = self.client.call("POST", "/auth/login", {"username": self.username, "password": PASSWORD})
        if status != 200:
            self.recorder.count("supervisors_failed_login")
            return
        self.client.token = body["token"]
        self.town = (body.get("person") or {}).get("town_code")
        try:
            # The page's first load.
            self.get("/me")
            self.load_villages()
            self.get("/maps/households")
            self.get("/conflicts?status=open&page_size=100")
            self.client.close()
            while True:
                think = self.rng.uniform(2, 8)
                if time.monotonic() + think >= self.deadline:
                    break
                time.sleep(think)
                self.action()
                self.client.close()
                self.recorder.count("supervisor_actions")
        finally:
            self.client.close()


def probe(args, recorder: Recorder, deadline: float) -> None:
    """The baseline: GET /health once a second, no login."""
    client = Client(args.url, recorder)
    while time.monotonic() < deadline:
        started = time.monotonic()
        client.call("GET", "/health", name="GET /health (baseline)")
        client.close()
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))


def sleep_until(at: float) -> None:
    delay = at - time.monotonic()
    if delay > 0:
        time.sleep(delay)


# -- the machine and the database ---------------------------------------------------------------


def cpu_by_process() -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) of every process now, by pid, with its name."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[int(entry)] = (name, (int(fields[11]) + int(fields[12])) / tick)
    return out


def machine_busy() -> tuple[float, float]:
    """Busy and total jiffies of all CPUs."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def database_url(args) -> str:
    url = args.database_url or os.environ.get("DATABASE_URL")
    if not url:
        env = ROOT / "instance/notoneless.env"
        for line in env.read_text().splitlines() if env.exists() else []:
            if line.startswith("DATABASE_URL="):
                url = line.split("=", 1)[1].strip()
    if not url:
        raise SystemExit("no DATABASE_URL: source instance/notoneless.env or pass --database-url")
    return url.replace("+psycopg", "")


SESSIONS = """SELECT state, count(*), max(now() - state_change) FILTER (WHERE state LIKE 'idle in transaction%')
                FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
               GROUP BY state"""


def watch_database(url: str, stop: threading.Event, seen: dict) -> None:
    """Sample the server's sessions every 2 s: the most connections and the longest idle in transaction."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.is_set():
            rows = conn.execute(SESSIONS).fetchall()
            total = sum(r[1] for r in rows)
            seen["max_sessions"] = max(seen.get("max_sessions", 0), total)
            for state, n, longest in rows:
                state = state or "?"
                seen.setdefault("max_by_state", {})
                seen["max_by_state"][state] = max(seen["max_by_state"].get(state, 0), n)
                if longest is not None:
                    ms = longest.total_seconds() * 1000
                    seen["longest_idle_in_transaction_ms"] = round(max(seen.get("longest_idle_in_transaction_ms", 0),
                                                                       ms), 1)
            stop.wait(2)


def idle_in_transaction(url: str) -> list[dict]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid, application_name, client_addr::text, now() - state_change, left(query, 200)"
            "  FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            "   AND state LIKE 'idle in transaction%'").fetchall()
    return [{"pid": r[0], "application": r[1], "client": r[2], "for_s": r[3].total_seconds(), "query": r[4]}
            for r in rows]


# -- report --------------------------------------------------------------------------------------


def table(summary: dict, seconds: float) -> str:
    rows = summary["endpoints"]
    width = max([len(n) for n in rows] + [20])
    lines = [f"{'endpoint':<{width}}  {'requests':>8}  {'errors':>6}  {'p50 ms':>8}  {'p95 ms':>8}  "
             f"{'p99 ms':>8}  {'max ms':>8}"]
    for name in sorted(rows, key=lambda n: (n.endswith("(baseline)"), n)):
        r = rows[name]
        lines.append(f"{name:<{width}}  {r['requests']:>8}  {r['errors']:>6}  {r['p50_ms']:>8.1f}  "
                     f"{r['p95_ms']:>8.1f}  {r['p99_ms']:>8.1f}  {r['max_ms']:>8.1f}")
    t = summary["totals"]
    lines.append(f"{'total':<{width}}  {t['requests']:>8}  {t['errors']:>6}  {t['p50_ms'] or 0:>8.1f}  "
                 f"{t['p95_ms'] or 0:>8.1f}  {t['p99_ms'] or 0:>8.1f}")
    lines.append(f"{t['requests'] / seconds:.1f} requests/s over {seconds:.0f} s")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the server (scripts/run.sh's)")
    parser.add_argument("--duration", type=float, default=300, help="seconds of load, ramp included")
    parser.add_argument("--tablets", type=int, default=200)
    parser.add_argument("--supervisors", type=int, default=20)
    parser.add_argument("--ramp", type=float, default=60, help="tablets start over this many seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "var/load.json", help="JSON results")
    parser.add_argument("--database-url", help="the server's database (default: DATABASE_URL)")
    parser.add_argument("--strict", action="store_true", help="exit 1 on any request error too")
    args = parser.parse_args()
    if not 1 <= args.supervisors <= 12 + 72:
        parser.error("--supervisors: 1 to 84 (the demo's town supervisors and team leaders)")
    db_url = database_url(args)

    recorder = Recorder()
    probe_client = Client(args.url, recorder)
    status, health, _ = probe_client.call("GET", "/health", record=False)
    probe_client.close()
    if status != 200:
        print(f"the server at {args.url} does not answer /health: {status} {health!r}", file=sys.stderr)
        return 2
    print(f"server {args.url}: {health.get('status')}; setting up {args.tablets} tablets", flush=True)
    started = time.monotonic()
    tablets, supervisors = set_up(args, recorder)
    setup = summarise(recorder)
    print(f"setup: {len(tablets)} tablets enrolled in {time.monotonic() - started:.1f} s "
          f"({len({t['surveyor']['id'] for t in tablets})} surveyors); supervisors: {', '.join(supervisors)}",
          flush=True)
    recorder = Recorder()  # the measured part starts clean

    cpu_before, busy_before, load_before = cpu_by_process(), machine_busy(), os.getloadavg()
    own_before = sum(os.times()[:2])
    watch_stop, seen = threading.Event(), {}
    watcher = threading.Thread(target=watch_database, args=(db_url, watch_stop, seen), daemon=True)
    watcher.start()

    rng = random.Random(args.seed)
    t0 = time.monotonic()
    deadline = t0 + args.duration
    stats: dict = {}
    threads = [threading.Thread(target=probe, args=(args, recorder, deadline), daemon=True)]
    for i, enrolled in enumerate(tablets):
        tablet = Tablet(i, enrolled, args, recorder, deadline, stats)
        threads.append(threading.Thread(target=tablet.run, args=(t0 + rng.uniform(0, args.ramp),), daemon=True))
    for i, username in enumerate(supervisors):
        supervisor = Supervisor(i, username, args, recorder, deadline)
        threads.append(threading.Thread(target=supervisor.run, args=(t0 + rng.uniform(0, 10),), daemon=True))
    for thread in threads:
        thread.start()
    last_print = t0
    while any(t.is_alive() for t in threads):
        time.sleep(1)
        now = time.monotonic()
        if now - last_print >= 30:
            last_print = now
            with recorder.lock:
                done = sum(len(v) for v in recorder.samples.values())
                errors = sum(len(v) for v in recorder.errors.values())
            print(f"  {now - t0:5.0f} s: {done} requests, {errors} errors, load {os.getloadavg()[0]:.1f}", flush=True)
        if now > deadline + 120:
            print("  some actors are still waiting on the server 120 s after the end", flush=True)
            break
    wall = time.monotonic() - t0
    cpu_after, busy_after, load_after = cpu_by_process(), machine_busy(), os.getloadavg()
    own = sum(os.times()[:2]) - own_before
    watch_stop.set()
    watcher.join(timeout=10)

    # The server's sessions once the load is over: none may be left idle in a transaction.
    time.sleep(1)
    idle = idle_in_transaction(db_url)

    whole = summarise(recorder)
    steady_from = stats.get("initial_done")
    steady = summarise(recorder, since=steady_from) if steady_from and steady_from < t0 + wall - 30 else None

    by_name: Counter = Counter()
    for pid, (name, seconds) in cpu_after.items():
        before = cpu_before.get(pid)
        by_name[name] += seconds - (before[1] if before and before[0] == name else 0)
    busy = (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1])
    machine = {"cpus": os.cpu_count(), "loadavg_before": [round(v, 2) for v in load_before],
               "loadavg_after": [round(v, 2) for v in load_after], "cpu_busy_share": round(busy, 3),
               "cpu_seconds_by_process": {k: round(v, 1) for k, v in by_name.most_common(10) if v >= 0.5}}

    print(f"\n== {args.tablets} tablets, {len(supervisors)} supervisors, {wall:.0f} s "
          f"(ramp {args.ramp:.0f} s) against {args.url}")
    print(table(whole, wall))
    if steady:
        span = t0 + wall - steady_from
        print(f"\n== steady part: the last {span:.0f} s, after every tablet's first full pull")
        print(table(steady, span))
    print("\npush receipts: " + ", ".join(f"{k.split('.', 1)[1]} {v}" for k, v in sorted(recorder.counters.items())
                                           if k.startswith("receipt.")))
    held = {k.split(".", 1)[1]: v for k, v in recorder.counters.items() if k.startswith("held.")}
    if held:
        print("held in outboxes to send again: " + ", ".join(f"{k} {v}" for k, v in sorted(held.items())))
    if recorder.rejections:
        print("rejections: " + ", ".join(f"{k} {v}" for k, v in recorder.rejections.most_common()))
    print(f"tablet cycles {recorder.counters['tablet_cycles']}, supervisor actions "
          f"{recorder.counters['supervisor_actions']}, records pulled at start {stats.get('records', 0)}, "
          f"keep-alive reconnects {recorder.counters['reconnects']}")
    initial = sorted(stats.get("initial_s", []))
    if initial:
        print(f"first sync of a tablet (manifest + full pull of its scope): p50 {percentile(initial, 0.5):.1f} s, "
              f"p95 {percentile(initial, 0.95):.1f} s, max {initial[-1]:.1f} s")
    for name, samples in sorted(recorder.error_samples.items()):
        print(f"errors of {name}: " + " | ".join(samples[:3]))
    print(f"machine: {machine['cpus']} CPUs, busy {busy:.0%}, load {load_before[0]:.1f} -> {load_after[0]:.1f}; "
          f"CPU s of this load generator {own:.1f}; CPU s by process name: "
          + ", ".join(f"{k} {v}" for k, v in machine["cpu_seconds_by_process"].items()))
    print(f"database sessions during the run: at most {seen.get('max_sessions')} "
          f"({json.dumps(seen.get('max_by_state', {}))}); longest idle in transaction seen "
          f"{seen.get('longest_idle_in_transaction_ms', 0)} ms")
    print(f"idle in transaction after the run: {len(idle)}" + "".join(f"\n  {s}" for s in idle))

    result = {"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
                       if k != "database_url"},
              "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
              "wall_s": round(wall, 1), "whole": whole, "steady": steady,
              "steady_s": round(t0 + wall - steady_from, 1) if steady else None,
              "requests_per_s": round(whole["totals"]["requests"] / wall, 1),
              "setup": setup, "receipts": {k.split(".", 1)[1]: v for k, v in recorder.counters.items()
                                           if k.startswith("receipt.")},
              "held": held, "rejections": dict(recorder.rejections),
              "rejection_samples": recorder.rejection_samples, "counters": dict(recorder.counters),
              "statuses": {k: dict(v) for k, v in recorder.statuses.items()},
              "error_samples": dict(recorder.error_samples), "machine": machine, "database": seen,
              "idle_in_transaction_after": idle,
              "first_sync_s": {"p50": round(percentile(initial, 0.5), 2), "p95": round(percentile(initial, 0.95), 2),
                               "max": round(initial[-1], 2)} if initial else None}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    print(f"results: {args.out}")
    if idle:
        return 1
    if args.strict and whole["totals"]["errors"]:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
