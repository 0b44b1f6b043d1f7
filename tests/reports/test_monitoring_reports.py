"""The monthly dropout report and the semester-start check, from register monitoring."""

import datetime as dt

from server.imports.models import Import, SuspectedDropout


def _register(session, as_of):
    imp = Import(kind="register", status="done", filename="学籍.xlsx", file_sha256=b"\0" * 32, file_size=1,
                 as_of=as_of)
    session.add(imp)
    session.flush()
    return imp


def test_monthly_report_and_semester_check(client, login, session, make_town, make_village, make_person, campaign,
                                           pinned_today):
    town = make_town()
    village, elsewhere = make_village(town), make_village(make_town())
    before, sept, oct_ = (_register(session, dt.date(2027, m, d)) for m, d in ((7, 1), (9, 5), (10, 10)))

    def signal(imp, prev, village_code, kind, name):
        session.add(SuspectedDropout(kind=kind, register_import_id=imp.id, previous_import_id=prev.id,
                                     detected_on=imp.as_of, id_number_lookup=name.encode(),
                                     id_number_cipher=b"x", village_code=village_code, name=name, gender="M",
                                     grade=7))

    signal(sept, before, village.code, "not_handed_over", "甲")
    signal(sept, before, village.code, "left_register", "乙")
    signal(oct_, sept, village.code, "left_register", "丙")
    signal(sept, before, elsewhere.code, "left_register", "外镇")
    session.flush()
    headers = login(make_person("town_supervisor", town=town))

    monthly = client.get("/api/v1/reports/monthly-dropouts?year=2027", headers=headers).json
    assert [(r["month"], r["signals"]) for r in monthly["rows"]] == [
        (9, {"not_handed_over": 1, "left_register": 1}), (10, {"left_register": 1})]

    check = client.get("/api/v1/reports/semester-check?start=2027-09-01", headers=headers).json
    assert check["until"] == "2027-09-08"
    assert sorted(i["name"] for i in check["items"]) == ["乙", "甲"]  # the October one is not the first week
