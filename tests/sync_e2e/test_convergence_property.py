"""Property: tablets of both lines editing the same villages offline, syncing in any order over a
bad network, end with the server's copy, every accepted submission stored, every conflict kept.

3 to 5 reference-client tablets (each its own SQLite file) belong to surveyors of the
government-line and the school-line teams that cover the same two villages of the tiny demo
county. Hypothesis drives them through phases of field work. In a phase the tablets work
offline: random edits of a few "hot" households and their children (same-field conflicts are
frequent on purpose), new children and visits; they push in any order over a network that
fails, loses answers and duplicates requests; a tablet may push the later part of its outbox
before the earlier part, send a settled submission again (same or other content) or pull alone
in the middle of the phase. A phase ends with every tablet pushing everything and pulling.

Checked (contract guarantees in brackets):
- after each phase, every `latest` field that tablets set to different values concurrently
  (without having pulled each other's edit) has a conflict record holding every one of those
  values [6]; a field set by one tablet alone ends with that tablet's newest value whatever
  order its edits arrived in [5, 7]; `monotonic` ends at the highest status written and
  `union` keeps every tick added and not removed [5];
- a settled submission sent again gets its stored receipt; other content under its id is
  refused with sync.submission_id_reused and the stored original is unchanged [3];
- every pull, incremental, agreed with the server's scope hash without a repair [2, 9];
- at the end, each tablet's copy (versions, fields, open conflicts) equals the server's
  records of its scope, read back by a full pull and from the tables [1, 8]; every
  submission the tablets settled is stored once, verbatim, with its device and receipt [4].

In half the examples a tablet may set the same field of a record several times in a phase
(guarantee 7 is checked on those): its newest value is the one that must be in the conflict, as
a tablet's earlier value that its own later edit replaced is not concurrent with anything. The
conflict check skips, as not concurrent, fields someone edited after pulling a newer version of
the record in the phase. The four bugs this property found first (test_known_sync_bugs.py) are
fixed, and the property now runs over them too: a tablet setting a field back to its starting
value, and a new record's later edit pushed before the submission that creates it.

Runs in process on the test's rolled-back connection; each example runs inside a SAVEPOINT
rolled back at its end, with tablets copied from SQLite files enrolled once for the test.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text

from mobile_contract.client import RetriesExhausted, TabletClient
from mobile_contract.client.flask_transport import FlaskTransport
from tests.sync_e2e.conftest import (
    StepClock,
    enroll_tablet,
    faulty,
    quick_retry,
    seeded_ids,
    surveyor_ids,
)

# SYNC_E2E_EXAMPLES=300 explores much further (about 2 minutes); SYNC_E2E_SHRINK=1 shrinks a
# failing run to a minimal one.
EXAMPLES = int(os.environ.get("SYNC_E2E_EXAMPLES", "20"))
SHRINK = os.environ.get("SYNC_E2E_SHRINK") == "1"
SURVEYORS = ("t01g01.s1", "t01s01.s1", "t01g01.s2", "t01s01.s2", "t01g01.lead")
HOT_HOUSEHOLDS = 2
NOTES = ("门锁着，下次再来", "家长在家，已宣传政策", "需复访", None)
SURVEY_STATUS_ORDER = ("not_visited", "visited", "confirmed")
FAMILY_TYPES = ("poor", "single_parent", "parents_away")
ENROLLMENT = ("enrolled", "dropped_out", "never_enrolled")
REASONS = ("poverty", "working", None)
GRADES = (1, 2, 3, None)
SCHOOLS = ("海安市城东镇中心小学", "海安市实验初级中学", None)
VISIT_OUTCOMES = ("persuaded", "refused", "not_found")
SETTLED = ("applied", "merged", "conflict", "duplicate")
# Fields under `latest` (the default policy): concurrent different values make a conflict.
LATEST_FIELDS = {"household": ("notes",),
                 "child": ("enrollment_status", "dropout_reason", "grade", "school_name")}


@dataclass(frozen=True)
class Edit:
    """One queued submission, as the test saw the tablet make it."""

    tablet: int
    submission_id: str
    device_seq: int
    record_type: str
    record_id: str
    fields: dict
    base: dict | None  # the tablet's server copy of the record's fields (None: created here)
    informed: bool  # the tablet had pulled a version of the record newer than the phase's start


@dataclass
class World:
    """What the examples share: the enrolled tablets' SQLite files and the scope."""

    connection: object
    transport_factory: object
    files: list[Path]
    villages: list[str]
    hot_households: list[str]
    workdir: Path
    examples: itertools.count = field(default_factory=lambda: itertools.count(1))


class TabletsMachine(RuleBasedStateMachine):
    world: World  # set on a subclass by the test

    def __init__(self):
        super().__init__()
        self.savepoint = self.world.connection.begin_nested()
        self.tablets: list[TabletClient] = []
        self.sent: dict[str, tuple[int, dict]] = {}  # submission id -> (tablet, body as queued)
        self.receipts: dict[str, dict] = {}  # settled receipts the tablets received
        self.phase_edits: list[Edit] = []
        self.phase_start: dict[str, dict] = {}
        self.rewrites = True
        self.created: dict[str, str] = {}  # record id -> submission id that creates it

    @property
    def conn(self):
        return self.world.connection

    # -- set-up -------------------------------------------------------------------------------------

    @initialize(count=st.integers(3, 5), seed=st.integers(0, 2**32 - 1), rewrites=st.booleans())
    def enroll(self, count, seed, rewrites):
        # Without rewrites a tablet sets each `latest` field of a record at most once per phase.
        self.rewrites = rewrites
        directory = self.world.workdir / f"example-{next(self.world.examples)}"
        directory.mkdir()
        rng = random.Random(seed)
        clock = StepClock()  # one clock for all: the order of captures is the order of steps
        for number in range(count):
            path = directory / self.world.files[number].name
            shutil.copyfile(self.world.files[number], path)
            self.tablets.append(TabletClient(
                path, transport=faulty(self.world.transport_factory(), rng.getrandbits(32)),
                retry=quick_retry(rng.getrandbits(32), attempts=3), new_id=seeded_ids(rng.getrandbits(32)),
                clock=clock))
        self.phase_start = self.tablets[0].server_copies()

    # -- offline edits --------------------------------------------------------------------------------

    def _tablet(self, number: int) -> tuple[int, TabletClient]:
        number %= len(self.tablets)
        return number, self.tablets[number]

    def _hot(self, tablet: TabletClient, record_type: str) -> list[dict]:
        hot = set(self.world.hot_households)
        if record_type == "household":
            return [r for r in tablet.records("household") if r["id"] in hot]
        return [r for r in tablet.records(record_type) if r["household_id"] in hot]

    def _rewrite(self, number: int, record_type: str, record_id: str, fields: dict) -> bool:
        """Would this edit set a `latest` field this tablet already set in this phase?"""
        return any(e.tablet == number and e.record_id == record_id and name in e.fields
                   for e in self.phase_edits for name in LATEST_FIELDS[record_type] if name in fields)

    def _queue(self, number: int, tablet: TabletClient, queued, fields: dict) -> None:
        body = next(o["submission"] for o in tablet.outbox()
                    if o["submission"]["submission_id"] == queued.submission_id)
        self.sent[queued.submission_id] = (number, body)
        key = f"{queued.record_type}:{queued.record_id}"
        copy = tablet.server_copies().get(key)
        if copy is None:
            self.created.setdefault(queued.record_id, queued.submission_id)
        informed = copy is not None and copy["version"] > self.phase_start.get(key, {"version": 0})["version"]
        self.phase_edits.append(Edit(number, queued.submission_id, queued.device_seq, queued.record_type,
                                     queued.record_id, dict(fields), None if copy is None else copy["fields"],
                                     informed))

    @rule(t=st.integers(0, 4), count=st.integers(1, 6), data=st.data())
    def work_offline(self, t, count, data):
        """A surveyor makes a few edits on a tablet without network."""
        number, tablet = self._tablet(t)
        for _ in range(count):
            kind = data.draw(st.sampled_from(["household", "household", "child", "child", "child",
                                              "new_child", "visit"]))
            pick = data.draw(st.integers(0, 99))
            {"household": self._edit_household, "child": self._edit_child, "new_child": self._create_child,
             "visit": self._record_visit}[kind](number, tablet, pick, data)

    def _edit_household(self, number, tablet, pick, data):
        households = self._hot(tablet, "household")
        household = households[pick % len(households)]
        kind = data.draw(st.sampled_from(["survey_status", "vulnerable_family_types", "notes"]))
        if kind == "survey_status":
            fields = {"survey_status": data.draw(st.sampled_from(SURVEY_STATUS_ORDER[1:]))}
        elif kind == "notes":
            fields = {"notes": data.draw(st.sampled_from(NOTES))}
        else:
            shown = set(household["fields"].get("vulnerable_family_types") or [])
            shown ^= {data.draw(st.sampled_from(FAMILY_TYPES))}  # tick or untick, as on the form
            fields = {"vulnerable_family_types": sorted(shown)}
        if not self.rewrites and self._rewrite(number, "household", household["id"], fields):
            return
        self._queue(number, tablet, tablet.edit("household", household["id"], fields), fields)

    def _edit_child(self, number, tablet, pick, data):
        children = self._hot(tablet, "child")
        child = children[pick % len(children)]
        kind = data.draw(st.sampled_from(["enrollment_status", "dropout_reason", "grade", "school_name",
                                          "back_to_school", "dropped_out"]))
        if kind == "back_to_school":
            fields = {"enrollment_status": "enrolled", "school_name": data.draw(st.sampled_from(SCHOOLS[:2])),
                      "grade": data.draw(st.sampled_from(GRADES[:3])), "dropout_reason": None}
        elif kind == "dropped_out":
            fields = {"enrollment_status": "dropped_out", "dropout_reason": data.draw(st.sampled_from(REASONS[:2])),
                      "school_name": None, "grade": None}
        else:
            choices = {"enrollment_status": ENROLLMENT, "dropout_reason": REASONS, "grade": GRADES,
                       "school_name": SCHOOLS}[kind]
            fields = {kind: data.draw(st.sampled_from(choices))}
        if not self.rewrites and self._rewrite(number, "child", child["id"], fields):
            return
        self._queue(number, tablet, tablet.edit("child", child["id"], fields), fields)

    def _create_child(self, number, tablet, pick, data):
        households = self._hot(tablet, "household")
        household = households[pick % len(households)]
        fields = {"name": data.draw(st.sampled_from(["陈思雨", "王浩然", "李欣怡"])), "gender": "F",
                  "birth_date": "2015-04-02", "enrollment_status": "dropped_out", "dropout_reason": "working",
                  "disability": False, "left_behind": True, "migrant": False}
        self._queue(number, tablet, tablet.create("child", fields, household_id=household["id"]), fields)

    def _record_visit(self, number, tablet, pick, data):
        children = self._hot(tablet, "child")
        child = children[pick % len(children)]
        fields = {"visitors": "王老师、村主任", "visit_date": (dt.date.today() - dt.timedelta(days=2)).isoformat(),
                  "outcome": data.draw(st.sampled_from(VISIT_OUTCOMES)), "next_step": "revisit",
                  "note": "随机走访"}
        self._queue(number, tablet, tablet.create("visit", fields, child_id=child["id"]), fields)

    # -- sync during a phase ------------------------------------------------------------------------

    def _push(self, tablet: TabletClient, faults: bool) -> None:
        tablet.transport.enabled = faults
        try:
            result = tablet.push()
        except RetriesExhausted:
            return  # the network gave up; the outbox keeps everything
        finally:
            tablet.transport.enabled = False
        for receipt in result.receipts:
            if receipt["status"] in SETTLED:
                self.receipts[receipt["submission_id"]] = receipt

    @rule(t=st.integers(0, 4), faults=st.booleans())
    def push(self, t, faults):
        self._push(self._tablet(t)[1], faults)

    @rule(t=st.integers(0, 4), split=st.integers(0, 99), faults=st.booleans())
    def push_later_part_first(self, t, split, faults):
        """The later part of a tablet's outbox reaches the server before its earlier part."""
        _, tablet = self._tablet(t)
        db = tablet.store.db
        rows = [dict(r) for r in db.execute("select * from outbox order by device_seq")]
        if len(rows) < 2:
            return
        held = rows[: split % (len(rows) - 1) + 1]
        with tablet.store.transaction():
            db.executemany("delete from outbox where submission_id = ?", [(r["submission_id"],) for r in held])
        try:
            self._push(tablet, faults)
        finally:
            with tablet.store.transaction():
                for row in held:
                    db.execute(f"insert into outbox ({', '.join(row)}) values ({', '.join('?' * len(row))})",
                               tuple(row.values()))

    @rule(t=st.integers(0, 4), pick=st.integers(0, 999), altered=st.booleans())
    def send_settled_again(self, t, pick, altered):
        """A settled submission again: its stored receipt; other content under its id: refused."""
        number, tablet = self._tablet(t)
        unsettled = {o["submission"]["submission_id"] for o in tablet.outbox()} | {
            r["submission"]["submission_id"] for r in tablet.rejected()}
        settled = sorted(sid for sid, (n, _) in self.sent.items() if n == number and sid not in unsettled)
        if not settled:
            return
        sid = settled[pick % len(settled)]
        body = self.sent[sid][1]
        if altered:
            body = {**body, "captured_at": (dt.datetime.fromisoformat(body["captured_at"])
                                            - dt.timedelta(seconds=1)).isoformat()}
        receipt, = tablet.api.call("POST", "/sync/push", {"submissions": [body]})["receipts"]
        row = self.conn.execute(text("SELECT payload, receipt FROM submissions WHERE submission_id = :sid"),
                                {"sid": sid}).one()
        assert row.payload == self.sent[sid][1], "the stored submission changed"
        if altered:
            assert receipt["status"] == "rejected", receipt
            assert [e["code"] for e in receipt["errors"]] == ["sync.submission_id_reused"], receipt
        else:
            assert receipt == row.receipt, "a submission sent again must get its original receipt"

    @rule(t=st.integers(0, 4), faults=st.booleans())
    def pull_alone(self, t, faults):
        """One tablet pulls in the middle of the phase (its later edits may be informed ones)."""
        self._pull(self._tablet(t)[1], faults)

    def _pull(self, tablet: TabletClient, faults: bool = False) -> None:
        tablet.transport.enabled = faults
        try:
            result = tablet.pull()
        except RetriesExhausted:
            tablet.transport.enabled = False
            result = tablet.pull()  # the rest of it on a good network
        finally:
            tablet.transport.enabled = False
        assert result.agreed and not result.repaired, f"an incremental pull missed a change: {result}"

    # -- the end of a phase ---------------------------------------------------------------------------

    @precondition(lambda self: len(self.phase_edits) >= 8)
    @rule()
    def end_phase(self):
        """Everyone pushes everything, then everyone pulls; check the phase's merges."""
        for _ in range(4):  # a visit may wait for another tablet's push of its new child
            for tablet in self.tablets:
                self._push(tablet, faults=False)
            if not any(t.outbox() for t in self.tablets):
                break
        for number, tablet in enumerate(self.tablets):
            assert tablet.outbox() == [], f"tablet {number} could not send everything"
            assert tablet.rejected() == [], f"tablet {number} had submissions refused: {tablet.rejected()}"
            self._pull(tablet)
        now = self.tablets[0].server_copies()
        self._check_conflicts(now)
        self._check_single_writers(now)
        self._check_auto_merged(now)
        self.phase_start, self.phase_edits = now, []

    def _changes(self):
        """Per (type, id, field) of a `latest` field: each tablet's edits of it in the phase that
        changed it (a value equal to the tablet's base is no change, guarantee 5)."""
        out: dict[tuple[str, str, str], dict[int, list[tuple[Edit, object]]]] = {}
        for edit in sorted(self.phase_edits, key=lambda e: (e.tablet, e.device_seq)):
            for name in LATEST_FIELDS.get(edit.record_type, ()):
                if name in edit.fields:
                    out.setdefault((edit.record_type, edit.record_id, name), {}).setdefault(
                        edit.tablet, []).append((edit, edit.fields[name]))
        return out

    def _check_conflicts(self, now: dict[str, dict]):
        """Different values that tablets set concurrently are all in the field's conflict."""
        kept: dict[tuple[str, str, str], list] = {}
        for row in self.conn.execute(text("SELECT record_type, record_id::text, field, values FROM conflicts")):
            kept.setdefault((row.record_type, row.record_id, row.field), []).extend(v["value"] for v in row.values)
        for (record_type, record_id, name), by_tablet in self._changes().items():
            writes = [w for edits in by_tablet.values() for w in edits]
            if any(e.informed for e, _ in writes):
                continue  # an edit made after seeing others' values is not concurrent with them
            # Each tablet's newest value in the phase (what it finally said).
            finals = [edits[-1] for edits in by_tablet.values()]
            values = {repr(v): v for e, v in finals if e.base is None or e.base.get(name) != v}
            if len(values) > 1:
                got = kept.get((record_type, record_id, name), [])
                missing = [v for v in values.values() if v not in got]
                assert not missing, (
                    f"{record_type} {record_id} {name}: tablets set {sorted(values)} concurrently; "
                    f"the conflict keeps {got!r}; the record shows {now[f'{record_type}:{record_id}']['fields'][name]!r}")

    def _check_single_writers(self, now: dict[str, dict]):
        """A field one tablet alone changed ends with its newest value, whatever the arrival order."""
        for (record_type, record_id, name), by_tablet in self._changes().items():
            if len(by_tablet) != 1:
                continue
            (edits,) = by_tablet.values()
            last_edit, value = edits[-1]
            key = f"{record_type}:{record_id}"
            assert now[key]["fields"][name] == value, (
                f"{key} {name}: tablet {last_edit.tablet} alone set {[v for _, v in edits]!r} "
                f"(seqs {[e.device_seq for e, _ in edits]}); the record shows {now[key]['fields'][name]!r}")

    def _check_auto_merged(self, now: dict[str, dict]):
        """`monotonic` ends at the highest status written; `union` keeps every tick added."""
        for household_id in self.world.hot_households:
            key = f"household:{household_id}"
            start = self.phase_start[key]["fields"]
            edits = [e for e in self.phase_edits if e.record_type == "household" and e.record_id == household_id]
            statuses = [start["survey_status"]] + [e.fields["survey_status"] for e in edits
                                                   if "survey_status" in e.fields]
            assert now[key]["fields"]["survey_status"] == max(statuses, key=SURVEY_STATUS_ORDER.index)
            # `union`: what each tablet finally said against its base (a tick it set and took back
            # before syncing is no tick); a tick any tablet added stays even if another took it
            # away concurrently (add wins).
            by_tablet: dict[int, list] = {}
            for e in edits:
                if "vulnerable_family_types" in e.fields:
                    by_tablet.setdefault(e.tablet, []).append(e)
            if any(e.informed for chain in by_tablet.values() for e in chain):
                continue  # a tablet that pulled mid-phase edited from two bases
            added, removed = set(), set()
            for chain in by_tablet.values():
                chain.sort(key=lambda e: e.device_seq)
                base = set(chain[0].base["vulnerable_family_types"])
                final = set(chain[-1].fields["vulnerable_family_types"])
                added |= final - base
                removed |= base - final
            ticks = set(now[key]["fields"]["vulnerable_family_types"])
            expected = (set(start["vulnerable_family_types"]) | added) - (removed - added)
            assert ticks == expected, (key, ticks, expected, edits)

    # -- the end ------------------------------------------------------------------------------------

    def teardown(self):
        try:
            if self.tablets:
                self.end_phase()
                self._check_convergence()
                self._check_stored()
        finally:
            for tablet in self.tablets:
                tablet.close()
            self.savepoint.rollback()

    def _check_convergence(self):
        """Each tablet's copy is the server's: a full pull, and the tables themselves."""
        in_tables = dict(self.conn.execute(text(
            "SELECT 'household:' || id, version FROM households WHERE village_code = ANY(:v) UNION ALL "
            "SELECT 'child:' || id, version FROM children WHERE village_code = ANY(:v) UNION ALL "
            "SELECT 'visit:' || id, version FROM visits WHERE village_code = ANY(:v)"),
            {"v": self.world.villages}).all())
        for number, tablet in enumerate(self.tablets):
            full, cursor = {}, None
            while True:
                page = tablet.api.call("GET", "/sync/changes", query={"cursor": cursor, "limit": 200})
                full.update({f"{c['record']['type']}:{c['record']['id']}": c["record"] for c in page["changes"]})
                cursor = page["cursor"]
                if not page["has_more"]:
                    break
            assert tablet.server_copies() == full, f"tablet {number} differs from the server"
            assert {k: r["version"] for k, r in full.items()} == in_tables
            for record in tablet.records():
                assert record["fields"] == full[f"{record['type']}:{record['id']}"]["fields"]

    def _check_stored(self):
        """Every settled submission is stored once, verbatim, with its device and receipt."""
        stored = {str(r.submission_id): r for r in self.conn.execute(text(
            "SELECT submission_id, device_id::text, payload, receipt FROM submissions"))}
        assert set(stored) == set(self.sent), "the stored submissions must be exactly those the tablets made"
        for sid, (number, body) in self.sent.items():
            assert stored[sid].payload == body
            assert stored[sid].device_id == self.tablets[number].device_id
        for sid, receipt in self.receipts.items():
            assert stored[sid].receipt == receipt


@pytest.mark.slow
def test_tablets_converge_whatever_the_order_and_the_network(connection, client, in_process_supervisor,
                                                              town01_villages, tiny_county, tmp_path):
    ids = surveyor_ids(in_process_supervisor, town01_villages[0])
    setup_dir = tmp_path / "enrolled"
    setup_dir.mkdir()
    files = []
    for number, username in enumerate(SURVEYORS):
        path = setup_dir / f"tablet-{number}.sqlite3"
        tablet = enroll_tablet(in_process_supervisor, ids[username], path, FlaskTransport(client),
                               retry=quick_retry())
        tablet.pull()
        assert sorted(tablet.villages()) == town01_villages
        tablet.close()
        files.append(path)
    households = {h.id for h in tiny_county.households if h.village_code == town01_villages[0]}
    with_children = sorted({str(c.household_id) for c in tiny_county.children if c.household_id in households})
    assert len(with_children) >= HOT_HOUSEHOLDS

    world = World(connection, lambda: FlaskTransport(client), files, town01_villages,
                  with_children[:HOT_HOUSEHOLDS], tmp_path)
    machine = type("Tablets", (TabletsMachine,), {"world": world})
    run_state_machine_as_test(machine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=20, deadline=None,
        # A failing run prints its steps; shrinking them takes minutes, so it is asked for.
        phases=[Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.shrink] if SHRINK else []),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
