"""A batch whose bulk write the database refuses is replayed one submission at a time: the one it
refuses is refused alone, with a receipt naming why, and the others are kept (guarantee 10).

POST /sync/push is its request's only write, so the failed bulk write rolls the whole
transaction back rather than a savepoint (server/sync/push/__init__.py, `alone`): what was
locked and read before is read again, and nothing of the request is lost."""

import uuid

import pytest
from sqlalchemy import text

from server.devices.models import Device
from server.sync.models import Submission
from tests.sync_api.conftest import (  # noqa: F401 - fixtures
    Tablet,
    area,
    enroll,
    forms,
)

REFUSED = "数据库拒绝"


@pytest.fixture
def database_rule(session):
    """A rule of the database the forms do not know (made for the test, gone with its
    transaction): a household's notes may not say REFUSED."""
    session.execute(text(
        "CREATE FUNCTION refuse_test_notes() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN RAISE check_violation USING MESSAGE = 'notes refused by the test''s rule'; END $$"))
    session.execute(text(
        f"CREATE TRIGGER households_refuse_test_notes BEFORE UPDATE ON households FOR EACH ROW"
        f" WHEN (NEW.notes = '{REFUSED}') EXECUTE FUNCTION refuse_test_notes()"))
    session.flush()


def test_the_refused_submission_is_refused_alone_and_the_others_kept(
        session, client, forms, area, enroll, database_rule):  # noqa: F811
    tablet = enroll([area["a"]])
    good_household, bad_household = area["households"][area["a"].code]
    good = tablet.submission("household", good_household.id, {"notes": "正常"}, base_version=1)
    bad = tablet.submission("household", bad_household.id, {"notes": REFUSED}, base_version=1)
    after = tablet.submission("household", good_household.id, {"head_name": "张三"}, base_version=1)

    first, second, third = tablet.push(good, bad, after)

    assert first["status"] in ("applied", "merged"), first
    assert second["status"] == "rejected", second
    assert [e["code"] for e in second["errors"]] == ["sync.invalid_record"], second
    assert third["status"] in ("applied", "merged"), third
    notes, head = session.execute(text("SELECT notes, head_name FROM households WHERE id = :id"),
                                  {"id": good_household.id}).one()
    assert (notes, head) == ("正常", "张三")
    assert session.execute(text("SELECT notes FROM households WHERE id = :id"),
                           {"id": bad_household.id}).scalar() != REFUSED
    stored = set(session.scalars(text("SELECT submission_id FROM submissions WHERE device_id = :d"),
                                 {"d": uuid.UUID(tablet.device_id)}))
    assert stored == {uuid.UUID(good["submission_id"]), uuid.UUID(after["submission_id"])}
    # The tablet was seen, though its batch was rolled back and replayed.
    session.expire_all()
    assert session.get(Device, uuid.UUID(tablet.device_id)).last_seen_at is not None

    # Sent again, the kept ones get their receipts back; the refused one is tried anew.
    again = tablet.push(good, bad)
    assert again[0] == first
    assert again[1]["status"] == "rejected"


def test_one_refused_submission_alone_is_a_receipt_not_a_failed_request(
        session, client, forms, area, enroll, database_rule):  # noqa: F811
    tablet = enroll([area["a"]])
    household = area["households"][area["a"].code][1]
    [receipt] = tablet.push(tablet.submission("household", household.id, {"notes": REFUSED}, base_version=1))
    assert receipt["status"] == "rejected" and receipt["errors"][0]["code"] == "sync.invalid_record", receipt
    assert session.scalar(text("SELECT count(*) FROM submissions WHERE device_id = :d"),
                          {"d": uuid.UUID(tablet.device_id)}) == 0
    # The next push of the tablet goes through as usual.
    [ok] = tablet.push(tablet.submission("household", household.id, {"notes": "正常"}, base_version=1))
    assert ok["status"] in ("applied", "merged"), ok
    assert session.get(Submission, uuid.UUID(ok["submission_id"])) is not None
