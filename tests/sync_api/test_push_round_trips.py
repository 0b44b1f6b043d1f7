"""What one push of one submission asks of the database (bench/sync_bench.py push-one measures
what it costs): a fixed number of statements, whatever the county's size. One more is a
round trip on every submission ODK Collect sends; this says so before the bench does."""

import datetime as dt
import uuid

from sqlalchemy import update

from tests.statements import statements as _statements
from tests.sync_api.conftest import (  # noqa: F401 - fixtures
    Tablet,
    area,
    enroll,
    forms,
)

# Generic plans for the transaction (db.prefer_generic_plans: planning cost more than running);
# the token (device, surveyor, time and scope in one); the records locked with the stored
# submissions and the form catalogue's digest; their field states, conflicts and base version;
# the record, its field states and the stored submission (one statement). No savepoint: the
# push is the request's only write, a failed bulk write rolls the transaction back. The tablet
# is seen at most once a minute (not here: it was seen a moment ago).
PUSH_STATEMENTS = 5


def test_one_submission_is_a_fixed_number_of_statements(app, forms, area, enroll):  # noqa: F811
    tablet = enroll([area["a"]])
    child = area["children"][area["a"].code][0]

    def edit(status):
        return tablet.submission("child", child.id, {"enrollment_status": status}, household_id=child.household_id)

    first = edit("dropped_out")
    assert tablet.push(first)[0]["status"] == "applied"  # and the form catalogue is loaded
    receipts = []
    statements = _statements(app, lambda: receipts.extend(tablet.push(edit("enrolled"))))
    assert receipts[0]["status"] == "applied" and receipts[0]["record"]["id"] == str(child.id), receipts
    assert len(statements) <= PUSH_STATEMENTS, "\n".join(s.split("\n")[0][:120] for s in statements)
    # The plans are chosen before the first statement that needs one (the token's lookup).
    assert statements[0] == "SET LOCAL plan_cache_mode = force_generic_plan", statements[0]
    # A re-sent submission writes nothing: the plans, the token, the lock that tells it is
    # stored; no context, no merge, no write.
    statements = _statements(app, lambda: receipts.extend(tablet.push(first)))
    assert receipts[-1]["status"] == "applied"
    assert not [s for s in statements if s.startswith(("UPDATE", "INSERT", "WITH saved_states"))], statements
    assert len(statements) <= 3, "\n".join(s.split("\n")[0][:120] for s in statements)


def test_the_tablet_is_seen_to_the_minute_not_on_every_push(app, session, forms, area, enroll):  # noqa: F811
    from server.devices.models import Device

    tablet = enroll([area["a"]])
    child = area["children"][area["a"].code][0]

    def edit(status):
        return tablet.submission("child", child.id, {"enrollment_status": status}, household_id=child.household_id)

    def seen_updates(do) -> list[str]:
        return [s for s in _statements(app, do) if s.startswith("UPDATE devices")]

    def last_seen():
        session.expire_all()
        return session.get(Device, uuid.UUID(tablet.device_id)).last_seen_at

    assert len(seen_updates(lambda: tablet.push(edit("dropped_out")))) == 1  # never seen before
    first = last_seen()
    assert first is not None
    assert seen_updates(lambda: tablet.push(edit("enrolled"))) == []  # seconds later: not written again
    assert last_seen() == first
    # A minute and more later, the push moves it (to the push's time: the test's one
    # transaction keeps now() where it was, so the earlier sighting is moved back instead).
    earlier = first - dt.timedelta(minutes=1, seconds=5)
    session.execute(update(Device).where(Device.id == uuid.UUID(tablet.device_id)).values(last_seen_at=earlier))
    session.flush()
    assert len(seen_updates(lambda: tablet.push(edit("dropped_out")))) == 1
    assert last_seen() > earlier
