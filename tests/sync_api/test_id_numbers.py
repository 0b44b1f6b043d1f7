"""ID numbers on the tablet contract (sync-contract.md, "ID numbers on the device"): a tablet
never receives an ID number or any part of one, and a number typed on a tablet is never
stored in clear text, not in the verbatim submission, field states, conflicts or history."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import uuid

from sqlalchemy import text

from server import disclosure
from server.people import id_number
from server.people.protection import child_subject
from sync.records import canonical


def _number(birth: dt.date, sequence: int) -> str:
    return id_number.make("320685", birth, sequence)


def _text_columns(session) -> list[tuple[str, str]]:
    return session.execute(text(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
        " AND table_name IN (SELECT tablename FROM pg_tables WHERE schemaname = 'public')"
        " AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'bytea', 'ARRAY')")).all()


def _places_holding(session, needles: list[str]) -> list[str]:
    """Every (table.column) of the whole database whose value contains one of the needles, in
    clear or as the hex of its bytes (a bytea holding the digits)."""
    found = []
    for table, column in _text_columns(session):
        for needle in needles:
            hit = session.execute(text(
                f'SELECT count(*) FROM "{table}" WHERE strpos("{column}"::text, :n) > 0'  # noqa: S608 - catalog names
                f' OR strpos("{column}"::text, :h) > 0'), {"n": needle, "h": needle.encode().hex()}).scalar()
            if hit:
                found.append(f"{table}.{column}")
    return found


def _tail(number: str) -> str:
    # The digits after the region code: the birth date, the sequence and the check digit. The
    # region itself is every village code's prefix, so it says nothing.
    return number[6:]


def test_a_tablet_receives_no_digit_of_an_id_number_only_its_status(client, forms, area, enroll, session):
    tablet = enroll([area["a"]])
    child = area["children"][area["a"].code][0]
    response = tablet.get("/sync/changes", query_string={"limit": 500})
    assert response.status_code == 200
    records = [c["record"] for c in response.json["changes"] if c["op"] == "upsert" and c["record"]["type"] == "child"]
    assert records and all("id_number" not in r["fields"] for r in records)
    assert {r["fields"]["id_number_status"] for r in records} == {"on_file"}
    # What the old masked form leaked: the hidden digits are the birth date the record carries.
    on_file = session.execute(text("SELECT id_number_cipher FROM children WHERE id = :id"), {"id": child.id}).scalar()
    number = client.application.extensions["notoneless.vault"].decrypt(on_file, child_subject(child.id))
    assert _tail(number) not in response.get_data(as_text=True)
    assert "*" * 8 not in response.get_data(as_text=True)

    repaired = tablet.post("/sync/repair", {"have": {}})
    assert repaired.status_code == 200
    assert _tail(number) not in repaired.get_data(as_text=True)


def test_a_typed_number_that_differs_from_the_one_on_file_is_a_mismatch_never_an_overwrite(
        client, forms, area, enroll, session, make_person, login):
    one, two = enroll([area["a"]]), enroll([area["a"]], line="school")
    vault = client.application.extensions["notoneless.vault"]
    child = area["children"][area["a"].code][0]
    on_file = vault.decrypt(child.id_number_cipher, child_subject(child.id))
    typed = _number(child.birth_date, 777)
    assert typed != on_file

    # The first tablet types the same number as the roster: matched.
    [receipt] = one.push(one.submission("child", child.id, {"id_number": on_file}, base_version=child.version))
    assert receipt["status"] == "applied", receipt
    # The second types another one: a conflict for the supervisor; the roster's number stays.
    submission = two.submission("child", child.id, {"id_number": typed}, base_version=child.version)
    [receipt] = two.push(submission)
    assert receipt["status"] == "conflict", receipt
    assert [c["field"] for c in receipt["conflicts"]] == ["id_number"]
    assert _tail(typed) not in str(receipt) and _tail(on_file) not in str(receipt)
    stored = session.execute(text("SELECT id_number_lookup FROM children WHERE id = :id"), {"id": child.id}).scalar()
    assert stored == vault.lookup(on_file)

    changes, _, _ = two.pull_all()
    record = next(c["record"] for c in changes if c["op"] == "upsert" and c["record"]["id"] == str(child.id))
    assert record["fields"]["id_number_status"] == "mismatch"
    assert "id_number" not in record["fields"]
    assert record["conflicts"][0]["field"] == "id_number"
    pulled = str(changes)
    assert _tail(typed) not in pulled and _tail(on_file) not in pulled and "cipher" not in pulled

    # The supervisor sees both numbers masked, and picks the typed one by its marker.
    supervisor = login(make_person("town_supervisor", town=area["town"]))
    listed = client.get("/api/v1/conflicts?status=open", headers=supervisor).json["items"]
    [conflict] = [c for c in listed if c["field"] == "id_number"]
    shown = [v["value"] for v in conflict["values"]]
    assert [v["masked"] for v in shown] == [disclosure.mask("id_number", on_file), disclosure.mask("id_number", typed)]
    assert _tail(typed) not in str(listed) and "cipher" not in str(listed)
    pick = next(v["value"] for v in conflict["values"] if v["device_id"] == two.device_id)
    resolved = client.post(f"/api/v1/conflicts/{conflict['conflict_id']}/resolve", headers=supervisor,
                           json={"value": {"protected": "id_number", "lookup": pick["lookup"]}, "note": "户口簿为准"})
    assert resolved.status_code == 200, resolved.json
    assert _tail(typed) not in resolved.get_data(as_text=True)
    full = client.get(f"/api/v1/children/{child.id}", headers=supervisor).json
    assert full["id_number"] == typed  # decrypts: re-encrypted for this child's row

    changes, _, _ = two.pull_all()
    record = next(c["record"] for c in changes if c["op"] == "upsert" and c["record"]["id"] == str(child.id))
    assert record["fields"]["id_number_status"] == "matched"  # the number on file is the one typed

    # Nowhere in the whole database: not the verbatim submission, the field states, the
    # conflict, its resolution, the history, the change log or the audit trail.
    session.flush()
    assert _places_holding(session, [typed, on_file, _tail(typed), _tail(on_file)]) == []

    # Idempotency still holds over the protected form: the same submission again gets its
    # original receipt; the same id with another content is refused.
    [again] = two.push(submission)
    assert again["status"] == "conflict" and again["record"]["version"] == receipt["record"]["version"]
    other = copy.deepcopy(submission)
    other["record"]["fields"]["id_number"] = _number(child.birth_date, 778)
    [reused] = two.push(other)
    assert reused["status"] == "rejected" and reused["errors"][0]["code"] == "sync.submission_id_reused"
    # The content hash cannot be tested against guessed numbers: it is not a plain sha256.
    content = session.execute(text("SELECT content_sha256 FROM submissions WHERE submission_id = :id"),
                              {"id": submission["submission_id"]}).scalar()
    assert content != hashlib.sha256(canonical(submission).encode()).hexdigest()


def test_a_new_child_typed_on_a_tablet_keeps_its_number_encrypted_and_matched(client, forms, area, enroll, session):
    tablet = enroll([area["a"]])
    household = area["households"][area["a"].code][0]
    child_id = uuid.uuid4()
    typed = _number(dt.date(2014, 3, 5), 321)
    [receipt] = tablet.push(tablet.submission("child", child_id, {
        "name": "李小花", "gender": "F", "birth_date": "2014-03-05", "enrollment_status": "dropped_out",
        "id_number": typed}, household_id=household.id))
    assert receipt["status"] == "applied", receipt
    changes, _, _ = tablet.pull_all()
    record = next(c["record"] for c in changes if c["op"] == "upsert" and c["record"]["id"] == str(child_id))
    assert record["fields"]["id_number_status"] == "matched" and "id_number" not in record["fields"]
    session.flush()
    assert _places_holding(session, [typed, _tail(typed)]) == []
    payload = session.execute(text("SELECT payload FROM submissions WHERE submission_id = :id"),
                              {"id": receipt["submission_id"]}).scalar()
    kept = payload["record"]["fields"]["id_number"]
    assert set(kept) == {"protected", "cipher", "lookup"}
    vault = client.application.extensions["notoneless.vault"]
    assert vault.reveal(kept, child_subject(child_id)) == typed  # verbatim, once decrypted


def test_a_bad_typed_number_is_refused_by_field(client, forms, area, enroll):
    tablet = enroll([area["a"]])
    child = area["children"][area["a"].code][0]
    bad = _number(child.birth_date, 5)[:17] + "0"
    if id_number.check(bad).ok:
        bad = bad[:17] + "1"
    [receipt] = tablet.push(tablet.submission("child", child.id, {"id_number": bad}, base_version=child.version))
    assert receipt["status"] == "rejected"
    assert receipt["errors"][0]["field"] == "id_number"
