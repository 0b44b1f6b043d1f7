"""The villages' scope hashes the database keeps at commit (scope_hashes) stay equal to the hash
of their records, whatever wrote them and however: a pull's scope hash is read from there."""

import uuid

from sqlalchemy import text

from server.sync import queries
from sync.scope_hash import scope_hash


def _check(session, *villages):
    """Kept equals computed from the records, village by village, and as the contract's hash."""
    session.flush()
    codes = [v.code for v in villages]
    kept = queries.kept_village_hashes(session, codes)
    assert kept == queries.village_hashes(session, codes)
    for code in codes:
        reference = scope_hash((t, str(i), v) for t, i, v in queries.scope_versions(session, [code]))
        assert queries.combine_hashes([kept[code]]) == reference
    return kept


def test_kept_hashes_follow_inserts_updates_moves_and_deletes(session, make_village, make_household, make_child):
    a, b = make_village(), make_village()
    empty = make_village()
    household = make_household(a)
    child = make_child(household)
    other = make_household(b)
    first = _check(session, a, b, empty)
    assert first[empty.code] == (0, 0) and first[a.code] != (0, 0)

    child.enrollment_status = "dropped_out"  # a new version
    session.flush()
    child.dropout_reason = "poverty"  # and another in the same transaction
    session.flush()
    assert _check(session, a)[a.code] != first[a.code]

    household.village_code = b.code  # a household moves village and takes its child along
    session.flush()
    moved = _check(session, a, b)
    assert moved[a.code] == (0, 0)

    session.delete(other)
    session.flush()
    _check(session, a, b)


def test_kept_hashes_after_sql_of_any_kind(session, make_village, make_household):
    """A psql session's writes count as the sync's do: the trigger, not the writer, keeps them."""
    a = make_village()
    make_household(a)
    household_id = uuid.uuid4()
    session.execute(text("INSERT INTO households (id, village_code, household_number, head_name)"
                         " VALUES (:id, :v, 'H-SQL-1', '户主')"), {"id": household_id, "v": a.code})
    session.execute(text("UPDATE households SET head_name = '户主二' WHERE id = :id"), {"id": household_id})
    _check(session, a)
    session.execute(text("DELETE FROM households WHERE id = :id"), {"id": household_id})
    _check(session, a)
    unchanged = queries.kept_village_hashes(session, [a.code])
    session.execute(text("UPDATE households SET head_name = head_name WHERE village_code = :v"), {"v": a.code})
    assert queries.kept_village_hashes(session, [a.code]) == unchanged  # no new version, no new hash


def test_a_pull_reads_the_kept_hash_after_pushes(client, forms, area, enroll):
    tablet = enroll([area["a"], area["b"]])
    changes, cursor, first = tablet.pull_all()
    held = {(c["record"]["type"], c["record"]["id"]): c["record"]["version"] for c in changes}
    assert first == scope_hash((t, i, v) for (t, i), v in held.items())
    child = next(c["record"] for c in changes if c["record"]["type"] == "child"
                 and c["record"]["village_code"] == area["b"].code)
    receipt, = tablet.push(tablet.submission("child", child["id"], {"enrollment_status": "dropped_out"},
                                             base_version=child["version"], household_id=child["household_id"],
                                             village_code=child["village_code"]))
    assert receipt["status"] == "applied", receipt
    later, _, after = tablet.pull_all(cursor)
    held.update({(c["record"]["type"], c["record"]["id"]): c["record"]["version"] for c in later})
    assert after == scope_hash((t, i, v) for (t, i), v in held.items()) != first
