"""Every server-side change of a synced record goes through one writer: a case step that
changes a child is versioned, recorded in the field states as the server's write and audited,
like a supervisor's conflict decision."""

from __future__ import annotations

from sqlalchemy import text


def test_a_returned_case_writes_the_child_as_the_server_with_an_audit_event(client, login, town_cases, session):
    people, kids = town_cases["people"], town_cases["kids"]
    child = kids["dropout"]
    opened = client.post("/api/v1/cases/open", headers=login(people["supervisor"]))
    assert opened.status_code in (200, 201), opened.json
    case = next(c for c in client.get("/api/v1/cases", headers=login(people["school"])).json["items"]
                if c["child_name"] == "王小明")
    before = session.execute(text("SELECT version FROM children WHERE id = :id"), {"id": child.id}).scalar()
    done = client.post(f"/api/v1/cases/{case['id']}/transitions", headers=login(people["school"]),
                       json={"to": "returned", "school_id": town_cases["school"].id, "return_date": "2027-07-01"})
    assert done.status_code == 200, done.json
    version, status = session.execute(text("SELECT version, enrollment_status FROM children WHERE id = :id"),
                                      {"id": child.id}).one()
    assert status == "enrolled" and version == before + 1
    # The field states say the server wrote it at that version: a tablet that edits the status
    # from an older version is concurrent with the school's confirmation, not silently over it.
    states = session.execute(text("SELECT states FROM field_states WHERE record_type = 'child' AND record_id = :id"),
                             {"id": child.id}).scalar()
    assert states["enrollment_status"]["v"] == version and states["enrollment_status"]["d"] is None
    assert states["school_name"]["v"] == version
    audited = client.get(f"/api/v1/audit-events?subject_id={child.id}&action=change",
                         headers=login(people["city"])).json["items"]
    assert any(e["detail"].get("case_step") == "returned" and e["detail"].get("version") == version
               for e in audited), audited


def test_which_statuses_open_a_case_is_one_function_for_the_trigger_and_the_backfill(
        client, login, town_cases, session):
    people, kids = town_cases["people"], town_cases["kids"]
    body = session.execute(text("SELECT prosrc FROM pg_proc WHERE proname = 'open_case_for_out_of_school_child'")
                           ).scalar()
    assert "open_case_for_child(" in body and "dropped_out" not in body
    trigger = session.execute(text("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'children_open_case'")
                              ).scalar()
    assert "dropped_out" not in trigger  # no WHEN clause repeating the rule
    # The backfill (POST /cases/open) opens the dropout and the never-enrolled child, through the
    # same function, with the supervisor on the first event; a second run opens nothing.
    session.execute(text("DELETE FROM case_events; DELETE FROM cases"))
    first = client.post("/api/v1/cases/open", headers=login(people["supervisor"]))
    assert first.status_code in (200, 201), first.json
    opened = session.execute(text("SELECT c.child_id, e.person_id FROM cases c JOIN case_events e ON e.case_id = c.id"
                                  )).all()
    assert {r[0] for r in opened} == {kids["dropout"].id, kids["never"].id}
    assert {r[1] for r in opened} == {people["supervisor"].id}
    assert client.post("/api/v1/cases/open", headers=login(people["supervisor"])).json["opened"] == 0
