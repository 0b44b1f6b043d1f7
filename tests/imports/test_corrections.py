"""Issue 15, item 9: a file of corrected rows adds or fixes them without marking the rest of the
town missing from the roster (`mode=corrections`); a full roster still flags who it leaves out."""

from __future__ import annotations

from sqlalchemy import func, select

from server.demo import files
from server.imports.models import Import, RosterEntry
from server.people import id_number
from server.people.models import Child
from server.places.models import Town
from tests.imports.conftest import file_bytes


def _missing(client, headers) -> int:
    return client.get("/api/v1/imports/missing-from-roster", headers=headers).json["total"]


def _full_roster_with_two_bad_rows(county):
    """The county's roster, in which one row's check digit and another's village are wrong."""
    table = files.roster_table(county, bad_rows=False)
    broken = [list(r) for r in table.rows]
    digit, village = broken[0], broken[1]
    digit[2] = digit[2][:17] + next(ch for ch in "0123456789X" if ch != digit[2][17])
    village[7] = "无此村"
    return table, broken


def test_corrected_rows_are_added_and_fixed_and_no_one_else_goes_missing(county, upload, city, client,
                                                                         session, vault):
    table, broken = _full_roster_with_two_bad_rows(county)
    first = upload(city, "roster", file_bytes(table.header, broken))
    assert first["summary"]["rows_bad"] == 2 and first["summary"]["children_missing"] == 0
    children = session.scalar(select(func.count()).select_from(Child))

    # The clerk sends back the two rows the report listed, corrected, and one phone number fixed.
    fixed_phone = list(table.rows[5])
    fixed_phone[13] = "13912345678"
    corrections = [table.rows[0], table.rows[1], fixed_phone]
    shown = upload(city, "roster", file_bytes(table.header, corrections), mode="corrections")

    assert shown["mode"] == "corrections" and shown["summary"]["mode"] == "corrections"
    assert shown["summary"]["rows_ok"] == 3
    assert shown["summary"]["children_created"] == 2 and shown["summary"]["children_updated"] == 1
    assert shown["summary"]["children_missing"] == 0
    assert _missing(client, city) == 0
    assert session.scalar(select(func.count()).select_from(Child)) == children + 2
    fixed = session.scalar(select(Child).where(Child.id_number_lookup == vault.lookup(fixed_phone[2])))
    assert fixed.guardian_phone == "13912345678"
    # Each corrected child is on the roster, listed by the corrections import.
    for row in corrections:
        child = session.scalar(select(Child).where(Child.id_number_lookup == vault.lookup(row[2])))
        entry = session.get(RosterEntry, child.id)
        assert (entry.last_import_id, entry.missing_since_import_id) == (shown["id"], None)
    assert session.get(Import, shown["id"]).mode == "corrections"

    # The next full roster of the county is a full roster again: it flags who it leaves out.
    rest = [r for r in table.rows if r is not table.rows[3]]
    again = upload(city, "roster", file_bytes(table.header, rest))
    assert again["mode"] == "full" and again["summary"]["children_missing"] == 1


def test_the_same_small_file_as_a_full_roster_still_marks_the_rest_of_its_town_missing(
        county, upload, city, client, session):
    table = files.roster_table(county, bad_rows=False)
    upload(city, "roster", file_bytes(table.header, table.rows))
    town = table.rows[0][6]
    in_town = sum(1 for r in table.rows if r[6] == town)

    shown = upload(city, "roster", file_bytes(table.header, [table.rows[0]]))  # no mode: full

    assert shown["mode"] == "full"
    assert shown["summary"]["children_missing"] == in_town - 1
    assert _missing(client, city) == in_town - 1


def test_a_correction_brings_back_a_child_a_full_roster_had_left_out(county, upload, city, client):
    table = files.roster_table(county, bad_rows=False)
    upload(city, "roster", file_bytes(table.header, table.rows))
    gone = table.rows[2]
    upload(city, "roster", file_bytes(table.header, [r for r in table.rows if r is not gone]))
    assert _missing(client, city) == 1

    shown = upload(city, "roster", file_bytes(table.header, [gone]), mode="corrections")

    assert shown["summary"]["children_back"] == 1 and shown["summary"]["children_missing"] == 0
    assert _missing(client, city) == 0


def test_a_town_supervisors_corrections_flag_no_one_in_the_town(county, upload, city, client, session,
                                                              make_person, login):
    table = files.roster_table(county, bad_rows=False)
    upload(city, "roster", file_bytes(table.header, table.rows))
    town = session.scalar(select(Town).where(Town.name == table.rows[0][6]))
    supervisor = login(make_person("town_supervisor", town=town))
    row = list(table.rows[0])
    row[12] = "新监护人"

    shown = upload(supervisor, "roster", file_bytes(table.header, [row]), mode="corrections")

    assert shown["summary"]["children_updated"] == 1 and shown["summary"]["children_missing"] == 0
    assert _missing(client, supervisor) == 0


def test_a_warned_row_in_corrections_is_imported_too(county, upload, city, client, session, vault):
    table = files.roster_table(county, bad_rows=False)
    upload(city, "roster", file_bytes(table.header, table.rows))
    row = list(table.rows[4])
    row[1] = "女" if row[1] == "男" else "男"  # the gender cell disagrees with the number
    row[13] = "13800001111"

    shown = upload(city, "roster", file_bytes(table.header, [row]), mode="corrections")

    assert shown["summary"]["warnings"] == 1 and shown["summary"]["children_updated"] == 1
    child = session.scalar(select(Child).where(Child.id_number_lookup == vault.lookup(row[2])))
    assert child.guardian_phone == "13800001111"
    assert child.gender == id_number.check(row[2]).gender  # the number's, not the cell's


def test_the_mode_is_checked_and_the_register_is_always_whole(county, upload, city):
    table = files.roster_table(county, bad_rows=False)
    content = file_bytes(table.header, table.rows[:2])
    unknown = upload(city, "roster", content, mode="partial", expect=422)
    assert unknown["code"] == "request.invalid" and {e["field"] for e in unknown["errors"]} == {"mode"}

    register = files.register_table(county, bad_rows=False)
    refused = upload(city, "register", file_bytes(register.header, register.rows[:2]), mode="corrections",
                     expect=422)
    assert refused["code"] == "request.invalid" and {e["field"] for e in refused["errors"]} == {"mode"}
    assert upload(city, "register", file_bytes(register.header, register.rows[:2]), mode="full")["status"] == "done"


def test_corrections_move_no_status_but_their_own_rows(county, upload, city, session, vault):
    """A corrections file re-matches the children it lists against the registers; every other
    child keeps the status it had (a full roster re-matches its towns)."""
    table = files.roster_table(county, bad_rows=False)
    upload(city, "roster", file_bytes(table.header, table.rows))
    # Children the registers had placed: a clerk's three corrected rows must not undo that.
    session.execute(Child.__table__.update().values(enrollment_status="enrolled_unconfirmed"))
    session.flush()
    rows = [table.rows[0], table.rows[1], table.rows[2]]

    shown = upload(city, "roster", file_bytes(table.header, rows), mode="corrections")

    # no register import in this county: the three listed are in no register
    assert shown["summary"]["statuses_changed"] == 3
    moved = session.scalars(select(Child.id_number_lookup).where(
        Child.enrollment_status == "suspected_out_of_school")).all()
    assert set(moved) == {vault.lookup(r[2]) for r in rows}
    assert session.scalar(select(func.count()).select_from(Child).where(
        Child.enrollment_status == "enrolled_unconfirmed")) == len(table.rows) - 3
