"""Children's records: ID numbers masked unless the role needs them; every full read audited."""

import datetime as dt

from sqlalchemy import select

from server.audit.models import AuditEvent
from server.people import id_number


def _child(make_village, make_household, make_child, make_town):
    town = make_town()
    village = make_village(town)
    number = id_number.make("320685", dt.date(2014, 2, 3), 57)
    return town, village, number, make_child(make_household(village), number=number, birth_date=dt.date(2014, 2, 3),
                                              gender="M", guardian_phone="13800000000")


def test_lists_always_mask_the_id_number(client, make_town, make_village, make_household, make_child,
                                         make_person, login):
    town, village, number, child = _child(make_village, make_household, make_child, make_town)
    for person in (make_person("city"), make_person("town_supervisor", town=town)):
        items = client.get(f"/api/v1/children?village={village.code}", headers=login(person)).json["items"]
        assert items[0]["id_number"] == id_number.mask(number)
        assert "guardian_phone" not in items[0]


def test_full_record_shows_the_id_number_to_city_and_town_only(client, make_town, make_village, make_household,
                                                               make_child, make_person, login):
    town, village, number, child = _child(make_village, make_household, make_child, make_town)
    city = client.get(f"/api/v1/children/{child.id}", headers=login(make_person("city"))).json
    assert city["id_number"] == number and city["id_number_masked"] is False
    assert city["guardian_phone"] == "13800000000"
    surveyor = make_person("surveyor", villages=[village])
    seen = client.get(f"/api/v1/children/{child.id}", headers=login(surveyor)).json
    assert seen["id_number"] == id_number.mask(number) and seen["id_number_masked"] is True


def test_every_full_read_is_audited_with_who(client, session, make_town, make_village, make_household, make_child,
                                             make_person, login):
    town, village, number, child = _child(make_village, make_household, make_child, make_town)
    reader = make_person("town_supervisor", town=town)
    headers = login(reader)
    client.get(f"/api/v1/children/{child.id}", headers=headers)
    client.get(f"/api/v1/children/{child.id}", headers=headers)
    events = session.scalars(select(AuditEvent).where(AuditEvent.subject_id == str(child.id))).all()
    assert [(e.person_id, e.action, e.detail["id_number"]) for e in events] == [(reader.id, "read_child", "full")] * 2


def test_out_of_scope_child_is_not_found_and_not_audited(client, session, make_town, make_village, make_household,
                                                         make_child, make_person, login):
    town, village, number, child = _child(make_village, make_household, make_child, make_town)
    outsider = make_person("town_supervisor", town=make_town())
    response = client.get(f"/api/v1/children/{child.id}", headers=login(outsider))
    assert response.status_code == 404 and "name" not in response.json
    assert session.scalars(select(AuditEvent).where(AuditEvent.subject_id == str(child.id))).all() == []


def test_children_filter_by_status_and_page(client, make_village, make_household, make_child, make_person, login):
    village = make_village()
    household = make_household(village)
    for status in ["dropped_out", "dropped_out", "enrolled", "never_enrolled"]:
        make_child(household, enrollment_status=status)
    headers = login(make_person("city"))
    page = client.get(f"/api/v1/children?village={village.code}&status=dropped_out&status=never_enrolled&page_size=2",
                      headers=headers).json
    assert page["total"] == 3 and len(page["items"]) == 2
    second = client.get(f"/api/v1/children?village={village.code}&status=dropped_out&status=never_enrolled"
                        "&page_size=2&page=2", headers=headers).json
    assert len(second["items"]) == 1
    assert {c["id"] for c in page["items"]}.isdisjoint({c["id"] for c in second["items"]})
    bad = client.get("/api/v1/children?status=nonsense&page_size=9999", headers=headers)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json["errors"]} >= {"page_size"}


def test_full_record_warns_when_the_id_number_disagrees_with_birth_date_or_gender(
        client, make_household, make_child, make_person, login):
    number = id_number.make("320685", dt.date(2014, 2, 3), 58)  # even sequence: female
    child = make_child(make_household(), number=number, birth_date=dt.date(2014, 2, 4), gender="M")
    record = client.get(f"/api/v1/children/{child.id}", headers=login(make_person("city"))).json
    assert set(record["id_number_warnings"]) == {"id_number.birth_date_mismatch", "id_number.gender_mismatch"}
