"""No submission, however malformed, causes a 500 or blocks the good one beside it."""

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)
FIELDS = ["survey_status", "vulnerable_family_types", "notes", "location", "head_name", "phone", "colour"]


@st.composite
def malformed_submission(draw):
    """A household submission with some parts replaced by random JSON."""
    submission = {
        "submission_id": str(uuid.uuid4()), "device_seq": draw(st.integers(1, 10**6)),
        "form_id": "household_survey", "form_version": "2026.1", "captured_at": "2026-06-01T10:00:00+08:00",
        "location": None, "record": {"type": "household", "id": None, "base_version": 1, "fields": {}},
        "attachments": [],
    }
    submission["record"]["fields"] = draw(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4))
    for key in draw(st.sets(st.sampled_from(["submission_id", "device_seq", "form_id", "form_version",
                                             "captured_at", "location", "attachments", "record"]), max_size=2)):
        submission[key] = draw(json_values)
    return submission


@settings(max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", "40")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(bad=malformed_submission())
def test_malformed_submissions_are_refused_alone(client, forms, area, enroll, bad):
    tablet = enroll([area["a"]])
    household = area["households"][area["a"].code][0]
    if isinstance(bad.get("record"), dict):
        bad["record"]["id"] = str(household.id)
    good = tablet.submission("household", household.id, {"notes": "正常"}, base_version=1)
    response = tablet.post("/sync/push", {"submissions": [bad, good]})
    assert response.status_code == 200, response.json
    first, second = response.json["receipts"]
    assert second["status"] in ("applied", "merged", "conflict"), second
    if first["status"] == "rejected":
        assert first["errors"] and all(e["code"] for e in first["errors"])


def test_a_push_that_is_not_a_push_is_refused_whole(client, forms, area, enroll):
    tablet = enroll([area["a"]])
    for body in [{}, {"submissions": "all"}, {"submissions": None}, []]:
        response = tablet.post("/sync/push", body)
        assert response.status_code in (400, 422), (body, response.status_code)
        assert response.json["code"].startswith("request.")


def test_garbage_cursor_and_limits(client, forms, area, enroll):
    tablet = enroll([area["a"]])
    for query in ["cursor=garbage", "cursor=c1.AAAA", "limit=0", "limit=100000", "limit=x"]:
        response = tablet.get(f"/sync/changes?{query}")
        assert response.status_code in (400, 422), query
        assert response.json["code"] in ("sync.invalid_cursor", "request.invalid")
