"""The push's form catalogue is kept by each process between requests (server/forms/service.py):
a version published, retired or rolled back by anyone else is seen by the very next push.

Nothing here tells the catalogue about a change: the versions are published and retired
through the database (the test's own session, raw SQL), as another gunicorn worker or another
server would, so only the catalogue's own check against the database can notice them."""

import uuid

from sqlalchemy import text

from server.forms import service as forms_service
from server.visits.models import Visit
from tests.forms_api.test_forms_api import _followup_v2
from tests.sync_api.conftest import (  # noqa: F401 - fixtures
    Tablet,
    area,
    enroll,
    forms,
)


def _visit_note(tablet, session, child, note: str) -> dict:
    """Push a 2026.1 follow-up visit with a note; return where the visit keeps it: 2026.1's note
    is a column, 2026.2 renames it `remark`, an answer of its own."""
    submission = tablet.submission("visit", uuid.uuid4(), {
        "visitors": "王老师", "visit_date": "2026-06-12", "outcome": "refused", "next_step": "revisit",
        "note": note}, child_id=child.id)
    receipt, = tablet.push(submission)
    assert receipt["status"] == "applied", receipt
    session.expire_all()
    visit = session.get(Visit, uuid.UUID(receipt["record"]["id"]))
    return {"note": visit.note, "remark": visit.answers.get("remark")}


def test_a_version_published_or_retired_elsewhere_is_seen_by_the_next_push(
        session, forms, area, enroll):  # noqa: F811
    tablet = enroll([area["a"]])
    child = area["children"][area["a"].code][0]
    # The catalogue is loaded (2026.1 only) and kept.
    assert _visit_note(tablet, session, child, "第一次") == {"note": "第一次", "remark": None}

    # 2026.2 (note renamed remark) published by someone else: the next push maps forward.
    forms_service.publish(session, _followup_v2(), "followup.xlsx", None)
    session.flush()
    answers = _visit_note(tablet, session, child, "第二次")
    assert answers == {"note": None, "remark": "第二次"}

    # 2026.2 retired by someone else: 2026.1 is the newest live version again.
    assert session.execute(text("UPDATE form_versions SET retired_at = now()"
                                " WHERE form_id = 'followup_visit' AND version = '2026.2'")).rowcount == 1
    answers = _visit_note(tablet, session, child, "第三次")
    assert answers == {"note": "第三次", "remark": None}

    # Deleted outright (no route does this; a repair by hand might): gone from the catalogue.
    session.execute(text("DELETE FROM form_versions WHERE form_id = 'followup_visit' AND version = '2026.2'"))
    newer = tablet.submission("visit", uuid.uuid4(), {"visitors": "王老师", "visit_date": "2026-06-13",
                                                      "outcome": "refused", "next_step": "revisit"},
                              child_id=child.id)
    newer["form_version"] = "2026.2"
    receipt, = tablet.push(newer)
    assert receipt["status"] == "rejected" and receipt["errors"][0]["code"] == "sync.unknown_form", receipt


def test_a_publication_rolled_back_after_a_push_saw_it_is_forgotten(session, forms, area, enroll):  # noqa: F811
    tablet = enroll([area["a"]])
    child = area["children"][area["a"].code][0]
    assert _visit_note(tablet, session, child, "之前") == {"note": "之前", "remark": None}
    attempt = session.begin_nested()
    forms_service.publish(session, _followup_v2(), "followup.xlsx", None)
    session.flush()
    # A push inside the transaction that published sees 2026.2 (and the catalogue keeps it) ...
    assert _visit_note(tablet, session, child, "其间") == {"note": None, "remark": "其间"}
    attempt.rollback()
    # ... and once that transaction is rolled back, the next push no longer does.
    answers = _visit_note(tablet, session, child, "之后")
    assert answers == {"note": "之后", "remark": None}
