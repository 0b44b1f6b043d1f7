"""The drill: N simulated tablets survey one village offline, sync in random order, must agree.

    python -m mobile_contract.client.drill --server http://127.0.0.1:8000 \\
        --username town01 --password demo-password --tablets 5 --village 320685105201 \\
        --edits 20 --seed 1

A supervisor logs in, issues one enrollment code per tablet to the surveyors whose teams cover
the village, and each tablet (its own SQLite file) enrolls and pulls. Then every tablet makes
random offline edits to the same few households, so that the two lines' tablets collide the way
they do in the field; the tablets sync in random order, some twice, some over a network that
fails, loses answers and duplicates requests. At the end every tablet pulls once more, and the
drill checks that each tablet's scope hash equals the server's and that tablets sharing a
village hold identical copies. Exit status: 0 agreed, 1 disagreed, 2 could not run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mobile_contract.client.api import ApiError, RetriesExhausted, RetryPolicy
from mobile_contract.client.supervisor import SupervisorSession
from mobile_contract.client.tablet import PushResult, TabletClient
from mobile_contract.client.transport import (
    FaultyTransport,
    Transport,
    TransportError,
    UrllibTransport,
)

# Choices of the built-in forms (survey_forms/builtin.py).
SURVEY_STATUSES = ("visited", "visited", "confirmed")
VULNERABLE_FAMILY_TYPES = ("single_parent", "poor", "parent_disabled", "parents_away", "raised_by_relatives")
OUT_OF_SCHOOL = ("suspected_out_of_school", "never_enrolled", "dropped_out")
DROPOUT_REASONS = ("weary_of_study", "poverty", "working", "health_disability", "family_crisis",
                   "early_marriage")
SCHOOLS = ("海安市墩头镇中心小学", "海安市墩头镇初级中学", "海安市城南实验小学", "海安市实验初级中学")
VISIT_OUTCOMES = ("persuaded", "refused", "not_found", "returned")
SURNAMES = "陈王张李刘徐周吴朱孙"
GIVEN = ("思雨", "浩然", "子涵", "欣怡", "宇轩", "梓萱", "俊杰", "雨桐", "一诺", "嘉怡")
# Edits land on this many households of the village (and their children): few enough that the
# tablets' edits collide, which is the point of the drill.
HOT_HOUSEHOLDS = 6


@dataclass
class Tablet:
    number: int
    surveyor: dict
    client: TabletClient
    faulty: FaultyTransport
    edits: Counter = field(default_factory=Counter)
    pushes: list[PushResult] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"tablet {self.number} ({self.surveyor['full_name']})"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mobile_contract.client.drill",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", required=True, help="base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--username", required=True, help="a supervisor of the village's town")
    parser.add_argument("--password", required=True)
    parser.add_argument("--village", required=True, help="12-digit village code")
    parser.add_argument("--tablets", type=int, default=5)
    parser.add_argument("--edits", type=int, default=20, help="offline edits per tablet")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fault-rate", type=float, default=0.1,
                        help="chance of each fault kind per request on a faulty tablet")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per HTTP request")
    parser.add_argument("--keep", type=Path, help="keep the tablets' SQLite files in this directory")
    args = parser.parse_args(argv)
    if args.tablets < 1 or args.edits < 0:
        parser.error("--tablets must be at least 1 and --edits at least 0")
    return args


def random_edit(tablet: Tablet, rng: random.Random, village: str, today: dt.date) -> str:
    """Make one random offline edit on a tablet; return its kind."""
    client = tablet.client
    households = sorted(client.records("household", village), key=lambda r: r["id"])[:HOT_HOUSEHOLDS]
    if not households:
        return "nothing_to_edit"
    hot = {h["id"] for h in households}
    kids = sorted((c for c in client.records("child", village) if c["household_id"] in hot),
                  key=lambda r: r["id"])
    kind = rng.choices(["survey_status", "vulnerable_family_types", "enrollment", "new_child", "visit"],
                       weights=[25, 15, 35, 10, 15])[0]
    if kind in ("enrollment", "visit") and not kids:
        kind = "survey_status"
    if kind == "survey_status":
        household = rng.choice(households)
        client.edit("household", household["id"], {"survey_status": rng.choice(SURVEY_STATUSES)})
    elif kind == "vulnerable_family_types":
        household = rng.choice(households)
        current = set(household["fields"].get("vulnerable_family_types") or [])
        if current and rng.random() < 0.3:
            current.discard(rng.choice(sorted(current)))
        else:
            current.add(rng.choice(VULNERABLE_FAMILY_TYPES))
        client.edit("household", household["id"], {"vulnerable_family_types": sorted(current)})
    elif kind == "enrollment":
        child = rng.choice(kids)
        if rng.random() < 0.5:
            fields = {"enrollment_status": "enrolled", "school_name": rng.choice(SCHOOLS),
                      "grade": rng.randint(1, 9), "dropout_reason": None}
        else:
            fields = {"enrollment_status": rng.choice(OUT_OF_SCHOOL),
                      "dropout_reason": rng.choice(DROPOUT_REASONS), "school_name": None, "grade": None}
        client.edit("child", child["id"], fields)
    elif kind == "new_child":
        household = rng.choice(households)
        born = dt.date(2011, 9, 1) + dt.timedelta(days=rng.randint(0, 365 * 8))
        client.create("child", {
            "name": rng.choice(SURNAMES) + rng.choice(GIVEN), "gender": rng.choice("MF"),
            "birth_date": born.isoformat(), "enrollment_status": "enrolled",
            "school_name": rng.choice(SCHOOLS), "grade": rng.randint(1, 9), "disability": False,
            "left_behind": rng.random() < 0.3, "migrant": rng.random() < 0.1,
        }, household_id=household["id"])
    else:
        child = rng.choice(kids)
        # Yesterday: the form refuses a visit date after "today", and the server's today may
        # start later than the tablet's.
        client.create("visit", {
            "visitors": tablet.surveyor["full_name"], "visit_date": (today - dt.timedelta(days=1)).isoformat(),
            "outcome": rng.choice(VISIT_OUTCOMES), "next_step": "revisit",
            "note": "演练：随机走访记录",
        }, child_id=child["id"])
    tablet.edits[kind] += 1
    return kind


def try_sync(tablet: Tablet) -> None:
    """Sync once; a network that keeps failing is reported, not fatal (the outbox keeps all)."""
    try:
        result = tablet.client.sync()
        tablet.pushes.append(result.push)
    except (RetriesExhausted, TransportError) as error:
        tablet.failures.append(str(error))


def run(
    args: argparse.Namespace,
    out: Callable[[str], None] = print,
    transport_factory: Callable[[], Transport] | None = None,
) -> int:
    """Run the drill; return the exit status."""
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return _run(args, out, transport_factory, args.keep)
    with tempfile.TemporaryDirectory(prefix="notoneless-drill-") as workdir:
        return _run(args, out, transport_factory, Path(workdir))


def _run(args, out, transport_factory, workdir: Path) -> int:
    def connect() -> Transport:
        if transport_factory is not None:
            return transport_factory()
        return UrllibTransport(args.server, timeout=args.timeout)

    rng = random.Random(args.seed)
    supervisor = SupervisorSession(connect())
    try:
        supervisor.log_in(args.username, args.password)
        village = supervisor.village(args.village)
        surveyors = supervisor.surveyors(args.village)
    except (ApiError, RetriesExhausted, TransportError) as error:
        out(f"drill: cannot prepare: {error}")
        return 2
    if not surveyors:
        out(f"drill: no surveyor's team covers village {args.village}")
        return 2
    out(f"Drill: village {args.village} {village.get('name', '')} ({village.get('town_name', '')}), "
        f"{args.tablets} tablets, {args.edits} offline edits each, seed {args.seed}")
    out("Surveyors: " + ", ".join(f"{s['full_name']} ({s.get('line') or '-'})" for s in surveyors))

    tablets: list[Tablet] = []
    try:
        return _drill(args, out, connect, rng, supervisor, surveyors, workdir, tablets)
    finally:
        for tablet in tablets:
            tablet.client.close()


def _drill(args, out, connect, rng, supervisor, surveyors, workdir, tablets) -> int:
    for number in range(1, args.tablets + 1):
        surveyor = surveyors[(number - 1) % len(surveyors)]
        faulty = FaultyTransport(connect(), random.Random(rng.random()), fail_before=args.fault_rate,
                                 drop_response=args.fault_rate, duplicate=args.fault_rate)
        faulty.enabled = False  # enroll and first pull on a good network
        retry = RetryPolicy(attempts=8, base_delay=0.05, max_delay=1.0, rng=random.Random(rng.random()))
        client = TabletClient(workdir / f"tablet-{number}.sqlite3", transport=faulty, retry=retry)
        try:
            code = supervisor.issue_enrollment_code(surveyor["id"])
            client.enroll(code["enrollment_code"], f"演练平板{number}（{surveyor['full_name']}）")
            pulled = client.pull()
        except (ApiError, RetriesExhausted, TransportError) as error:
            out(f"drill: tablet {number} cannot enroll or pull: {error}")
            return 2
        tablets.append(Tablet(number, surveyor, client, faulty))
        out(f"  tablet {number}: {surveyor['full_name']}, device {client.device_id}, "
            f"{len(client.records())} records in {len(client.villages())} villages "
            f"({pulled.pages} pages)")
    if not any(t.client.records("household", args.village) for t in tablets):
        out(f"drill: the tablets received no household of village {args.village}")
        return 2

    today = dt.date.today()
    for tablet in tablets:
        for _ in range(args.edits):
            random_edit(tablet, rng, args.village, today)
    kinds = sum((t.edits for t in tablets), Counter())
    out(f"Offline edits queued: {sum(kinds.values())} (" +
        ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) + ")")

    order = rng.sample(tablets, len(tablets))
    faulty_ones = [t for t in order if rng.random() < 0.5]
    for tablet in faulty_ones:
        tablet.faulty.enabled = True
    out("Sync round 1 (order " + " ".join(str(t.number) for t in order) + "; faulty network on "
        + (" ".join(str(t.number) for t in faulty_ones) or "none") + "; some twice)")
    for tablet in order:
        try_sync(tablet)
        if rng.random() < 0.3:
            try_sync(tablet)
    for tablet in tablets:
        tablet.faulty.enabled = False
    out("Sync round 2 (every tablet, good network) and a final pull")
    for tablet in tablets:
        try_sync(tablet)
    finals = {}
    for tablet in tablets:
        try:
            finals[tablet.number] = tablet.client.pull()
        except (ApiError, RetriesExhausted, TransportError) as error:
            tablet.failures.append(f"final pull: {error}")
    return report(tablets, finals, out)


def report(tablets: list[Tablet], finals: dict, out: Callable[[str], None]) -> int:
    """Print what happened and check agreement; return the exit status."""
    statuses: Counter = Counter()
    conflict_fields: Counter = Counter()
    conflict_ids = set()
    rejections = []
    for tablet in tablets:
        for push in tablet.pushes:
            statuses.update(push.statuses)
            for conflict in push.conflicts:
                if conflict["conflict_id"] not in conflict_ids:
                    conflict_ids.add(conflict["conflict_id"])
                    conflict_fields[conflict["field"]] += 1
        rejections.extend((tablet, r) for r in tablet.client.rejected())
    out("Receipts by status: " + (", ".join(f"{s} {statuses[s]}" for s in
        ("applied", "merged", "conflict", "rejected") if statuses[s]) or "none"))
    out(f"Conflicts created: {len(conflict_ids)}" + (" (" + ", ".join(
        f"{f} {n}" for f, n in conflict_fields.most_common()) + ")" if conflict_ids else ""))
    out(f"Rejections kept on the tablets: {len(rejections)}")
    for tablet, rejected in rejections:
        record = rejected["submission"]["record"]
        reasons = "; ".join(f"{e.get('field') or '-'} {e['code']}: {e['message']}" for e in rejected["errors"])
        out(f"  {tablet.label} {record['type']} {record['id'][:8]}: {reasons}")
    faults = sum((Counter(t.faulty.faults) for t in tablets), Counter())
    out("Faults injected: " + (", ".join(f"{k} {v}" for k, v in sorted(faults.items())) or "none"))
    for tablet in tablets:
        for failure in tablet.failures:
            out(f"  {tablet.label} gave up once and kept its outbox: {failure}")
        if tablet.client.outbox():
            out(f"  {tablet.label} still has {len(tablet.client.outbox())} submissions in its outbox")

    out("Agreement:")
    agreed = True
    for tablet in tablets:
        final = finals.get(tablet.number)
        ok = final is not None and final.agreed
        agreed &= ok
        detail = "no final pull" if final is None else (
            f"local {final.local_hash} server {final.server_hash}" + (" (after repair)" if final.repaired else ""))
        out(f"  {tablet.label}: {'ok' if ok else 'DIFFERS'} {detail}")
    for i, first in enumerate(tablets):
        for second in tablets[i + 1:]:
            shared = set(first.client.villages()) & set(second.client.villages())
            if not shared:
                continue
            a, b = first.client.server_copies(shared), second.client.server_copies(shared)
            if a != b:
                agreed = False
                differing = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
                out(f"  tablets {first.number} and {second.number} differ on {len(differing)} records "
                    f"of villages {', '.join(sorted(shared))}: {', '.join(differing[:5])}")
    if agreed:
        sizes = {len(t.client.records()) for t in tablets}
        out(f"  every tablet equals the server; shared villages hold identical copies "
            f"({', '.join(str(s) for s in sorted(sizes))} records per tablet)")
    out("Result: AGREED" if agreed else "Result: DISAGREED")
    return 0 if agreed else 1


def main(argv: list[str] | None = None) -> int:
    """Run the drill from the command line."""
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
