"""From the tablet to the case: a suspected child confirmed out of school in the field gets a
case, and the follow-up visits the tablet pushes show on it."""

import uuid

from tests.sync_api.conftest import area, enroll, forms  # noqa: F401 - the tablet contract's fixtures


def test_a_field_confirmation_opens_a_case_and_visits_attach(client, login, forms, area, enroll,  # noqa: F811
                                                            make_person, campaign, pinned_today):
    tablet = enroll([area["a"]])
    child = area["children"][area["a"].code][0]
    confirmed, = tablet.push(tablet.submission("child", child.id, {"enrollment_status": "dropped_out",
                                                                   "dropout_reason": "working"}, base_version=1))
    assert confirmed["status"] == "applied", confirmed
    supervisor = login(make_person("town_supervisor", town=area["town"]))
    cases = client.get("/api/v1/cases", headers=supervisor).json
    # Opened by the database as the status arrived; the other suspected children wait for the field.
    assert [c["child_id"] for c in cases["items"]] == [str(child.id)]

    visit, = tablet.push(tablet.submission("visit", uuid.uuid4(), {
        "visitors": "王老师, 村书记", "visit_date": "2027-06-12", "outcome": "refused", "next_step": "revisit",
        "deadline": "2027-06-20"}, child_id=child.id))
    assert visit["status"] == "applied", visit
    detail = client.get(f"/api/v1/cases/{cases['items'][0]['id']}", headers=supervisor).json
    assert detail["child_id"] == str(child.id)
    assert [(v["visitors"], v["outcome"]) for v in detail["visits"]] == [("王老师, 村书记", "refused")]
