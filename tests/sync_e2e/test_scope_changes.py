"""Guarantee 1 when the scope moves: a team reassigned to other villages, a household moved to
another village. The changes are committed in the database directly (as a supervisor's tool or
an import would), on a database of its own with the app in process committing for real, so
the change log is numbered at COMMIT as in production.

Small demo county: team t01g01 (and t01s01) covers town 01's villages 320685001001-003; team
t02g01 covers town 02's 320685002001, 320685002002 and 320685002201.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from mobile_contract.client import ApiSession, TabletClient
from mobile_contract.client.flask_transport import FlaskTransport
from tests.sync_e2e.conftest import (
    StepClock,
    city_supervisor,
    enroll_tablet,
    quick_retry,
    surveyor_ids,
)

V1, V2, V3 = "320685001001", "320685001002", "320685001003"
W = "320685002001"  # town 02


@pytest.fixture
def world(committed_app, db_engine, tmp_path):
    transport = FlaskTransport(committed_app.test_client())
    supervisor = city_supervisor(transport)
    ids = {**surveyor_ids(supervisor, V1), **surveyor_ids(supervisor, W)}
    engine = db_engine(committed_app.database_name)
    clock = StepClock()
    tablets: list[TabletClient] = []

    def tablet(username: str) -> TabletClient:
        made = enroll_tablet(supervisor, ids[username], tmp_path / f"{username}.sqlite3", transport,
                             retry=quick_retry(), clock=clock)
        made.pull()
        tablets.append(made)
        return made

    yield {"transport": transport, "engine": engine, "tablet": tablet}
    for made in tablets:
        made.close()


def records_in(engine, villages) -> dict[str, int]:
    """"<type>:<id>" -> version of every record standing in these villages, from the tables."""
    with engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT 'household:' || id, version FROM households WHERE village_code = ANY(:v) UNION ALL "
            "SELECT 'child:' || id, version FROM children WHERE village_code = ANY(:v) UNION ALL "
            "SELECT 'visit:' || id, version FROM visits WHERE village_code = ANY(:v)"), {"v": list(villages)}).all())


def pending_changes(world, tablet: TabletClient) -> tuple[dict[str, int], set[str]]:
    """What the tablet's next pull will bring (read with its token from its cursor, without
    applying it): upserts as key -> version, and the keys of scope exits."""
    session = ApiSession(world["transport"], token=tablet.store.get("token"), retry=quick_retry())
    upserts, exits, cursor = {}, set(), tablet.cursor
    while True:
        page = session.call("GET", "/sync/changes", query={"cursor": cursor, "limit": 25})
        for change in page["changes"]:
            if change["op"] == "upsert":
                upserts[f"{change['record']['type']}:{change['record']['id']}"] = change["record"]["version"]
            else:
                assert change["op"] == "scope_exit", change
                exits.add(f"{change['type']}:{change['id']}")
        cursor = page["cursor"]
        if not page["has_more"]:
            return upserts, exits


def pull_and_check(world, tablet: TabletClient, villages) -> None:
    """The tablet pulls and then holds exactly the server's records of its villages."""
    tablet.fetch_manifest()
    result = tablet.pull()
    assert result.agreed and not result.repaired, result
    assert sorted(tablet.villages()) == sorted(villages)
    held = {f"{r['type']}:{r['id']}": r["version"] for r in tablet.records()}
    assert held == records_in(world["engine"], villages)


def household_ids(tablet: TabletClient, village: str) -> list[str]:
    return sorted(r["id"] for r in tablet.records("household", village))


def test_a_reassigned_team_gets_exits_for_the_village_it_lost_and_all_of_the_one_it_gained(world):
    stale, other = world["tablet"]("t01g01.s1"), world["tablet"]("t02g01.s1")
    engine = world["engine"]
    # Changes in both villages after the stale tablet's cursor; the fresh tablet pulls them.
    gained_household = household_ids(other, W)[0]
    other.edit("household", gained_household, {"notes": "换村前的走访"})
    other.push()
    fresh = world["tablet"]("t01g01.s2")
    lost_household = household_ids(fresh, V3)[0]
    lost_child = next(r for r in fresh.records("child", V3))
    fresh.edit("household", lost_household, {"survey_status": "visited"})
    fresh.create("visit", {"visitors": "村主任", "visit_date": "2026-01-05", "outcome": "refused",
                           "next_step": "revisit"}, child_id=lost_child["id"])
    fresh.sync()
    # A change in the gained village after the fresh tablet's cursor too.
    other.edit("household", household_ids(other, W)[1], {"notes": "换村后的走访"})
    other.push()
    # The stale tablet queued edits before it learns of the reassignment.
    stale.edit("household", lost_household, {"notes": "已不归我们组"})

    with engine.begin() as conn:  # the supervisor moves village V3 from team t01g01 to W
        team = conn.scalar(text("SELECT t.id FROM teams t JOIN people p ON p.id = t.leader_id "
                                "WHERE p.username = 't01g01.lead'"))
        conn.execute(text("DELETE FROM team_villages WHERE team_id = :t AND village_code = :v"), {"t": team, "v": V3})
        conn.execute(text("INSERT INTO team_villages (team_id, village_code) VALUES (:t, :v)"), {"t": team, "v": W})

    lost, gained, kept = records_in(engine, [V3]), records_in(engine, [W]), records_in(engine, [V1, V2])
    assert any(k.startswith("visit:") for k in lost)
    for tablet in (stale, fresh):  # whatever the cursor
        upserts, exits = pending_changes(world, tablet)
        assert exits == set(lost), "every record of the lost village, and nothing else, leaves"
        assert {k: v for k, v in upserts.items() if k in gained} == gained, "all of the gained village arrives"
        assert set(upserts) <= set(gained) | set(kept)
        pull_and_check(world, tablet, [V1, V2, W])

    # And it writes only where it now may: the queued edit of the lost village is refused.
    result = stale.push()
    assert result.statuses == {"rejected": 1}
    assert result.rejected[0]["errors"][0]["code"] == "sync.out_of_scope"
    stale.edit("household", gained_household, {"survey_status": "visited"})
    assert stale.sync().push.statuses == {"applied": 1}


def test_a_household_moved_to_another_village_leaves_the_tablets_of_the_old_one(world):
    town01, town02 = world["tablet"]("t01g01.s1"), world["tablet"]("t02g01.s1")
    engine = world["engine"]
    moved = next(h for h in household_ids(town01, V1)
                 if any(c["household_id"] == h for c in town01.records("child", V1)))
    child = next(c for c in town01.records("child", V1) if c["household_id"] == moved)
    town01.create("visit", {"visitors": "王老师", "visit_date": "2026-01-05", "outcome": "persuaded",
                            "next_step": "revisit"}, child_id=child["id"])
    town01.sync()
    town02.pull()
    within = household_ids(town01, V1)[-1]  # another household moves between two villages it holds
    assert within != moved
    family = {f"household:{moved}"} | {f"{r['type']}:{r['id']}" for r in town01.records()
                                        if r["household_id"] == moved}
    assert {k.split(":")[0] for k in family} == {"household", "child", "visit"}

    with engine.begin() as conn:
        conn.execute(text("UPDATE households SET village_code = :w WHERE id = :h"), {"w": W, "h": moved})
        conn.execute(text("UPDATE households SET village_code = :v WHERE id = :h"), {"v": V2, "h": within})

    upserts, exits = pending_changes(world, town01)
    assert exits == family, "the household, its children and its visits leave the old village's tablets"
    assert f"household:{within}" in upserts and f"household:{within}" not in exits
    pull_and_check(world, town01, [V1, V2, V3])
    assert town01.record("household", within)["village_code"] == V2

    upserts, exits = pending_changes(world, town02)
    assert exits == set() and family <= set(upserts)
    pull_and_check(world, town02, [W, "320685002002", "320685002201"])
    assert {town02.record(*k.split(":"))["village_code"] for k in family} == {W}
