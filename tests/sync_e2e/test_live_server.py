"""The contract on a real server (gunicorn, 2 worker processes x 4 threads, its own database):
concurrent pushes against a pager that must miss nothing, and idempotency over the network.

The county is the small demo county (seed 7); town 01's government- and school-line teams
cover villages 320685001001-003 (about 100 households and 140 children).
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import uuid
from collections import Counter

import pytest
from sqlalchemy import text

from mobile_contract.client import ApiSession, TabletClient
from sync.scope_hash import scope_hash
from tests.sync_e2e.conftest import (
    city_supervisor,
    enroll_tablet,
    quick_retry,
    seeded_ids,
    surveyor_ids,
)

TOWN01 = ("320685001001", "320685001002", "320685001003")
PUSHERS = ("t01g01.s1", "t01s01.s1", "t01g01.s2")
PAGER = "t01s01.s2"
NOTES = ("门锁着，下次再来", "家长在家，已宣传政策", "需复访", "已送达告知书")
SCHOOLS = ("海安市城东镇中心小学", "海安市实验初级中学")


@pytest.fixture(scope="module")
def server(fresh_database, live_server):
    database = fresh_database()
    return live_server(database, workers=2, threads=4)


@pytest.fixture(scope="module")
def supervisor(server):
    return city_supervisor(server.transport())


@pytest.fixture(scope="module")
def surveyors(supervisor):
    return surveyor_ids(supervisor, TOWN01[0])


@pytest.fixture
def tablet_for(server, supervisor, surveyors, tmp_path):
    made = []

    def make(username: str, seed: int = 0) -> TabletClient:
        tablet = enroll_tablet(supervisor, surveyors[username], tmp_path / f"{username}-{len(made)}.sqlite3",
                               server.transport(), retry=quick_retry(seed, attempts=6),
                               new_id=seeded_ids(seed))
        tablet.pull()
        made.append(tablet)
        return tablet

    yield make
    for tablet in made:
        tablet.close()


def scope_versions(engine, villages) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT 'household:' || id, version FROM households WHERE village_code = ANY(:v) UNION ALL "
            "SELECT 'child:' || id, version FROM children WHERE village_code = ANY(:v) UNION ALL "
            "SELECT 'visit:' || id, version FROM visits WHERE village_code = ANY(:v)"), {"v": list(villages)}).all())


def random_edit(tablet: TabletClient, rng: random.Random) -> None:
    """One offline edit of any record of the scope (so pushers contend for the same rows)."""
    kind = rng.choice(["household", "child", "child", "new_child", "visit"])
    households = sorted(tablet.records("household"), key=lambda r: r["id"])
    children = sorted((c for c in tablet.records("child") if c["version"] is not None), key=lambda r: r["id"])
    if kind == "household":
        household = rng.choice(households)
        fields = rng.choice([{"notes": rng.choice(NOTES)}, {"survey_status": rng.choice(["visited", "confirmed"])},
                             {"vulnerable_family_types": sorted(rng.sample(["poor", "single_parent", "parents_away"],
                                                                           rng.randint(0, 2)))}])
        tablet.edit("household", household["id"], fields)
    elif kind == "child":
        child = rng.choice(children)
        tablet.edit("child", child["id"], rng.choice([
            {"enrollment_status": "enrolled", "school_name": rng.choice(SCHOOLS), "grade": rng.randint(1, 9),
             "dropout_reason": None},
            {"enrollment_status": "dropped_out", "dropout_reason": rng.choice(["poverty", "working"]),
             "school_name": None, "grade": None}]))
    elif kind == "new_child":
        tablet.create("child", {"name": rng.choice(["陈思雨", "王浩然", "李欣怡"]), "gender": rng.choice("MF"),
                                "birth_date": "2014-09-01", "enrollment_status": "never_enrolled",
                                "dropout_reason": "health_disability", "disability": False, "left_behind": False,
                                "migrant": False}, household_id=rng.choice(households)["id"])
    else:
        tablet.create("visit", {"visitors": "王老师", "visit_date": (dt.date.today() - dt.timedelta(days=2)).isoformat(),
                                "outcome": rng.choice(["persuaded", "refused"]), "next_step": "revisit"},
                      child_id=rng.choice(children)["id"])


@pytest.mark.slow
def test_a_pager_misses_no_change_while_tablets_push_concurrently(server, db_engine, tablet_for):
    """Guarantee 2: paging `changes` from its cursor, again and again, while three tablets push
    many small batches at once (commits interleave across two server processes), the pager
    ends with exactly the server's version of every record of the scope."""
    pushers = [tablet_for(username, seed) for seed, username in enumerate(PUSHERS, start=1)]
    pager = tablet_for(PAGER, 9)
    engine = db_engine(server.database)
    session = ApiSession(server.transport(), token=pager.store.get("token"), retry=quick_retry())

    seen: dict[str, int] = {}
    went_back: list[str] = []
    pages = {"while_pushing": 0}
    cursor = None

    def page() -> dict:
        nonlocal cursor
        body = session.call("GET", "/sync/changes", query={"cursor": cursor, "limit": 7})
        for change in body["changes"]:
            if change["op"] == "upsert":
                key = f"{change['record']['type']}:{change['record']['id']}"
                if change["record"]["version"] < seen.get(key, 0):
                    went_back.append(key)
                seen[key] = max(seen.get(key, 0), change["record"]["version"])
            else:
                seen.pop(f"{change['type']}:{change['id']}", None)
        cursor = body["cursor"]
        return body

    failures: list[BaseException] = []
    made = Counter()
    done = threading.Event()

    def push_rounds(tablet: TabletClient, seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(8):
                for _ in range(rng.randint(8, 16)):
                    random_edit(tablet, rng)
                    made[tablet.device_id] += 1
                tablet.push(batch_size=4)  # many small transactions
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=push_rounds, args=(t, n)) for n, t in enumerate(pushers)]
    for thread in threads:
        thread.start()
    watcher = threading.Thread(target=lambda: ([t.join() for t in threads], done.set()))
    watcher.start()
    while not done.is_set():
        page()
        pages["while_pushing"] += 1
    watcher.join()
    assert not failures, failures
    while page()["has_more"]:
        pass
    final = page()  # an empty last page with the scope hash as of the end

    assert all(t.outbox() == [] and t.rejected() == [] for t in pushers), "every edit was accepted"
    with engine.connect() as conn:
        stored = Counter(dict(conn.execute(text(
            "SELECT device_id::text, count(*) FROM submissions WHERE device_id = ANY(:ids) GROUP BY device_id"),
            {"ids": [uuid.UUID(t.device_id) for t in pushers]}).all()))
    assert stored == made and sum(made.values()) > 250
    assert pages["while_pushing"] > 20, pages
    assert not went_back, f"a later page brought an older version of {went_back[:3]}"
    assert seen == scope_versions(engine, TOWN01), "the pager's state differs from the server's"
    assert final["scope_hash"] == scope_hash(tuple(k.split(":")) + (v,) for k, v in seen.items())


def _push_raw(server, token: str, submissions: list[dict]) -> list[dict]:
    session = ApiSession(server.transport(), token=token, retry=quick_retry(attempts=1))
    return session.call("POST", "/sync/push", {"submissions": submissions})["receipts"]


def test_the_same_submission_sent_at_once_on_four_connections_has_one_effect(server, db_engine, tablet_for):
    """Guarantee 3 under concurrency: four requests carrying the same two submissions (an edit
    of a household, a new child) race; one applies them, the others are told to send again and
    then get the original receipts. One stored submission each, one new version, one child."""
    tablet = tablet_for("t01g01.s1", 21)
    engine = db_engine(server.database)
    household = sorted(tablet.records("household", TOWN01[1]), key=lambda r: r["id"])[3]
    tablet.edit("household", household["id"], {"notes": "并发重发测试"})
    tablet.create("child", {"name": "并发儿童", "gender": "M", "birth_date": "2015-01-01",
                            "enrollment_status": "never_enrolled", "dropout_reason": "poverty",
                            "disability": False, "left_behind": False, "migrant": False},
                  household_id=household["id"])
    batch = [o["submission"] for o in tablet.outbox()]
    token = tablet.store.get("token")

    barrier = threading.Barrier(4)
    answers: list[list[dict]] = [None] * 4  # type: ignore[list-item]

    def send(slot: int) -> None:
        barrier.wait()
        answers[slot] = _push_raw(server, token, batch)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for slot, receipts in enumerate(answers):
        for receipt in receipts:
            assert receipt["status"] in ("applied", "rejected"), receipt
            if receipt["status"] == "rejected":
                assert [e["code"] for e in receipt["errors"]] == ["sync.retry"], receipt
        if any(r["status"] == "rejected" for r in receipts):  # as the client does: send again
            answers[slot] = _push_raw(server, token, batch)
    assert all(receipts == answers[0] for receipts in answers), answers
    assert [r["status"] for r in answers[0]] == ["applied", "applied"]
    assert answers[0][0]["record"]["version"] == household["version"] + 1

    with engine.connect() as conn:
        ids = [uuid.UUID(s["submission_id"]) for s in batch]
        assert conn.scalar(text("SELECT count(*) FROM submissions WHERE submission_id = ANY(:ids)"),
                           {"ids": ids}) == 2
        assert conn.scalar(text("SELECT version FROM households WHERE id = :id"),
                           {"id": household["id"]}) == household["version"] + 1
        assert conn.scalar(text("SELECT count(*) FROM children WHERE name = '并发儿童'")) == 1

    # The client, which never got an answer of its own, settles both from the stored receipts.
    result = tablet.push()
    assert [r for r in result.receipts] == answers[0] and tablet.outbox() == []


def test_the_same_id_with_other_content_is_refused_and_the_original_kept(server, db_engine, tablet_for):
    """Guarantee 3 over HTTP: the same submission twice gives one effect and the same receipt;
    the same id with other content gives sync.submission_id_reused and changes nothing."""
    tablet = tablet_for("t01s01.s1", 31)
    engine = db_engine(server.database)
    child = sorted(tablet.records("child", TOWN01[2]), key=lambda r: r["id"])[0]
    tablet.edit("child", child["id"], {"enrollment_status": "dropped_out", "dropout_reason": "working",
                                       "school_name": None, "grade": None})
    submission = tablet.outbox()[0]["submission"]
    token = tablet.store.get("token")

    first, = _push_raw(server, token, [submission])
    again, = _push_raw(server, token, [submission])
    assert first["status"] == "applied" and again == first

    other = {**submission, "record": {**submission["record"],
                                      "fields": {**submission["record"]["fields"], "dropout_reason": "poverty"}}}
    reused, = _push_raw(server, token, [other])
    assert reused["status"] == "rejected"
    assert reused["errors"] == [{"field": "submission_id", "code": "sync.submission_id_reused",
                                 "message": reused["errors"][0]["message"]}]
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT payload, receipt FROM submissions WHERE submission_id = :id"),
                              {"id": submission["submission_id"]}).one()
        row = conn.execute(text("SELECT version, dropout_reason FROM children WHERE id = :id"),
                           {"id": child["id"]}).one()
    assert stored.payload == submission and stored.receipt == first
    assert (row.version, row.dropout_reason) == (child["version"] + 1, "working")
