"""Importing the police roster: the report of bad rows, households, idempotent re-import, history."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from server.demo import files
from server.imports.models import RecordChange
from server.people.models import Child, Household
from server.places.models import Village
from tests.imports.conftest import file_bytes


def _roster_file(county, tmp_path, fmt):
    table = files.roster_table(county)
    path = files.write_table(tmp_path / f"roster.{files.FORMATS[fmt][0]}", table, fmt=fmt)
    return table, path.read_bytes()


@pytest.mark.parametrize("fmt", ["csv", "gb18030", "xlsx"])
def test_each_seeded_bad_row_is_reported_and_the_good_rows_are_imported(
        fmt, county, tmp_path, upload, city, client, session):
    table, content = _roster_file(county, tmp_path, fmt)
    shown = upload(city, "roster", content, filename=f"police_roster.{fmt}")
    errors = [s for s in table.seeded if s.severity == "error"]
    warnings = [s for s in table.seeded if s.severity == "warning"]

    assert shown["status"] == "done"
    assert shown["encoding"] == (None if fmt == "xlsx" else ("gb18030" if fmt == "gb18030" else "utf-8-sig"))
    assert shown["progress"] == {"rows_total": len(table.rows), "rows_read": len(table.rows),
                                 "rows_ok": len(table.rows) - len(errors),
                                 "rows_bad": len(errors), "percent": 100.0}
    problems = client.get(f"/api/v1/imports/{shown['id']}/problems?page_size=500", headers=city).json
    found = [(p["line"], p["column"], p["code"], p["severity"]) for p in problems["items"]]
    assert found == sorted((s.line, s.column, s.code, s.severity) for s in table.seeded)
    assert {s.code for s in errors} == {"id_number.check_digit", "place.unknown_village",
                                        "row.missing_value", "id_number.duplicate_in_file"}
    assert {s.code for s in warnings} == {"date.impossible", "id_number.gender_mismatch"}
    assert (problems["errors"], problems["warnings"]) == (len(errors), len(warnings))
    # Bad rows never stop good ones, and a warned row is imported: every other row is a child now.
    assert session.scalar(select(func.count()).select_from(Child)) == len(table.rows) - len(errors)
    assert shown["summary"]["children_created"] == len(table.rows) - len(errors)
    assert (shown["summary"]["errors"], shown["summary"]["warnings"], shown["summary"]["rows_warned"]) == (
        len(errors), len(warnings), len(warnings))


def test_the_report_downloads_as_csv_and_xlsx_with_one_line_per_problem(county, tmp_path, upload, city, client):
    table, content = _roster_file(county, tmp_path, "csv")
    shown = upload(city, "roster", content)

    as_csv = client.get(f"/api/v1/imports/{shown['id']}/report?format=csv", headers=city)
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    assert rows[0] == ["行号", "列", "字段", "错误代码", "说明", "内容", "级别", "已按身份证号导入为", "姓名", "区镇",
                       "村(社区)"]
    assert [(int(r[0]), r[2], r[3]) for r in rows[1:]] == sorted((s.line, s.column, s.code) for s in table.seeded)
    assert {r[6] for r in rows[1:]} == {"错误（未导入）", "警告（已导入，请核实）"}
    check_digit = next(r for r in rows[1:] if r[3] == "id_number.check_digit")
    assert check_digit[1] == "公民身份号码" and "*" in check_digit[5]  # masked even in the report

    as_xlsx = client.get(f"/api/v1/imports/{shown['id']}/report?format=xlsx", headers=city)
    assert as_xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(as_xlsx.data)).active
    xlsx_rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert [(r[0], r[3]) for r in xlsx_rows[1:]] == [(int(r[0]), r[3]) for r in rows[1:]]


def test_the_same_file_twice_adds_and_changes_nothing(county, tmp_path, upload, city, session):
    _table, content = _roster_file(county, tmp_path, "csv")
    first = upload(city, "roster", content)
    before = session.execute(select(Child.id, Child.version, Child.updated_at).order_by(Child.id)).all()
    households = session.scalar(select(func.count()).select_from(Household))
    changes = session.scalar(select(func.count()).select_from(RecordChange))

    second = upload(city, "roster", content)

    assert second["summary"]["same_file_as_import_id"] == first["id"]
    for key in ("children_created", "children_updated", "households_created", "households_updated",
                "children_missing", "statuses_changed"):
        assert second["summary"][key] == 0, key
    assert second["summary"]["children_unchanged"] == first["summary"]["children_created"]
    assert session.execute(select(Child.id, Child.version, Child.updated_at).order_by(Child.id)).all() == before
    assert session.scalar(select(func.count()).select_from(Household)) == households
    assert session.scalar(select(func.count()).select_from(RecordChange)) == changes


def test_a_changed_row_updates_the_child_bumps_its_version_and_keeps_history(
        county, tmp_path, upload, city, client, session, vault):
    table = files.roster_table(county, bad_rows=False)
    first = upload(city, "roster", file_bytes(table.header, table.rows))
    row = table.rows[0]
    child = session.scalar(select(Child).where(Child.id_number_lookup == vault.lookup(row[2])))
    assert child.version == 1
    old_phone, old_updated = row[13], child.updated_at

    row[13] = "13900000000"  # 联系电话
    row[12] = "新监护人"  # 监护人姓名
    second = upload(city, "roster", file_bytes(table.header, table.rows))

    assert second["summary"]["children_updated"] == 1
    session.refresh(child)
    assert (child.version, child.guardian_phone, child.guardian_name) == (2, "13900000000", "新监护人")
    assert child.updated_at > old_updated
    history = client.get(f"/api/v1/imports/children/{child.id}/history", headers=city).json
    updates = [c for c in history["changes"] if c["kind"] == "updated"]
    assert len(updates) == 1
    assert updates[0]["import_id"] == second["id"] and updates[0]["import_id"] != first["id"]
    assert updates[0]["changes"]["guardian_phone"] == [old_phone, "13900000000"]
    assert set(updates[0]["changes"]) == {"guardian_phone", "guardian_name"}


def test_a_child_missing_from_a_newer_roster_is_flagged_not_deleted(county, tmp_path, upload, city, client,
                                                                     session, vault):
    table = files.roster_table(county, bad_rows=False)
    upload(city, "roster", file_bytes(table.header, table.rows))
    gone_row = table.rows.pop(3)
    gone = session.scalar(select(Child).where(Child.id_number_lookup == vault.lookup(gone_row[2])))

    newer = upload(city, "roster", file_bytes(table.header, table.rows))

    assert newer["summary"]["children_missing"] == 1
    missing = client.get("/api/v1/imports/missing-from-roster", headers=city).json
    assert [m["child_id"] for m in missing["items"]] == [str(gone.id)]
    assert missing["items"][0]["missing_since_import_id"] == newer["id"]
    assert client.get(f"/api/v1/children/{gone.id}", headers=city).status_code == 200  # still there

    table.rows.append(gone_row)
    again = upload(city, "roster", file_bytes(table.header, table.rows))
    assert again["summary"]["children_back"] == 1
    assert client.get("/api/v1/imports/missing-from-roster", headers=city).json["total"] == 0


def test_rows_are_grouped_into_households_by_number_or_by_address_and_head(county, upload, city, session, vault):
    village = county.villages[0]
    town = next(t for t in county.towns if t.code == village.town_code)
    ids = [f"32068520150{m}0{d}" for m, d in ((3, 11), (3, 12), (4, 11), (4, 12), (5, 11))]
    from server.people import id_number as idn

    numbers = [n + "0" + str(1 + i % 2) + "0" for i, n in enumerate(ids)]
    numbers = [n[:17] + idn.check_digit(n[:17]) for n in numbers]
    header = ["姓名", "性别", "公民身份号码", "户籍地址", "区镇", "村(社区)", "户号", "户主姓名"]
    rows = [
        ["甲", "女", numbers[0], "一组1号", town.name, village.name, "NEW-1", "王一"],
        ["乙", "男", numbers[1], "一组1号", town.name, village.name, "NEW-1", "王一"],
        ["丙", "女", numbers[2], "二组9号", town.name, village.name, "", "李二"],
        ["丁", "男", numbers[3], "二组9号", town.name, village.name, "", "李二"],
        ["戊", "女", numbers[4], "三组5号", town.name, village.name, "", "赵三"],
    ]
    # Genders follow the ID numbers' 17th digit.
    for row in rows:
        row[1] = "男" if int(row[2][16]) % 2 else "女"
    shown = upload(city, "roster", file_bytes(header, rows))
    assert shown["summary"]["households_created"] == 3

    def household_of(number):
        return session.scalar(select(Child.household_id).where(Child.id_number_lookup == vault.lookup(number)))

    assert household_of(numbers[0]) == household_of(numbers[1])
    assert household_of(numbers[2]) == household_of(numbers[3])
    assert len({household_of(n) for n in numbers}) == 3
    household = session.get(Household, household_of(numbers[0]))
    centroid = session.execute(select(func.ST_AsText(Village.centroid)).where(Village.code == village.code)).scalar()
    assert session.scalar(select(func.ST_AsText(Household.location)).where(Household.id == household.id)) == centroid
    assert household.location_approximate is True and household.household_number == "NEW-1"

    again = upload(city, "roster", file_bytes(header, rows))
    assert again["summary"]["households_created"] == 0


def test_a_town_supervisor_imports_only_rows_of_their_own_town(county, tmp_path, upload, make_person, login,
                                                              session):
    from server.places.models import Town

    town = session.get(Town, county.towns[0].code)
    supervisor = login(make_person("town_supervisor", town=town))
    table = files.roster_table(county, bad_rows=False)
    shown = upload(supervisor, "roster", file_bytes(table.header, table.rows))

    own = sum(1 for row in table.rows if row[6] == town.name)
    assert 0 < own < len(table.rows)
    assert shown["town_code"] == town.code
    assert shown["progress"]["rows_ok"] == own
    assert {p["code"] for p in shown["problems_preview"]} == {"place.out_of_scope"}


@pytest.mark.parametrize("content, filename, status, code", [
    (b"", "empty.csv", 422, "import.empty_file"),
    ("姓名,性别,出生日期\n张三,男,2013-04-02\n".encode(), "r.csv", 422, "import.missing_columns"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old", "r.xls", 415, "import.unsupported_format"),
    (b"PK\x03\x04garbage", "r.xlsx", 422, "import.unreadable_file"),
    (bytes(range(256)) * 4, "r.csv", 422, "import.unreadable_file"),
    ("会议纪要\n第一条,第二条\n".encode("gb18030"), "notes.csv", 422, "import.no_header"),
])
def test_a_file_that_cannot_be_imported_is_refused_at_upload_with_a_stable_code(
        content, filename, status, code, county, upload, city):
    answer = upload(city, "roster", content, filename=filename, expect=status)
    assert answer["code"] == code
    if code == "import.missing_columns":
        assert {e["field"] for e in answer["errors"]} == {"公民身份号码", "村(社区)"}


def test_who_may_upload(county, client, upload, make_person, login):
    surveyor = login(make_person("surveyor"))
    answer = upload(surveyor, "roster", b"x", expect=403)
    assert answer["code"] == "auth.forbidden"
    no_file = client.post("/api/v1/imports/roster", data={}, headers=login(make_person("city")),
                          content_type="multipart/form-data")
    assert no_file.status_code == 422 and no_file.json["code"] == "request.invalid"
    assert client.get("/api/v1/imports/999999", headers=login(make_person("city"))).status_code == 404


def _broken_workbook(good: bytes) -> bytes:
    """A real XLSX whose sheet XML is cut off half-way (a download that stopped)."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(good))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = data[: len(data) // 2]
            target.writestr(item, data)
    return out.getvalue()


def test_damaged_files_are_refused_or_failed_with_a_code_never_a_server_error(county, upload, city, client,
                                                                            session, vault):
    table = files.roster_table(county, bad_rows=False)
    workbook = file_bytes(table.header, table.rows, "xlsx")
    truncated_zip = upload(city, "roster", workbook[: len(workbook) // 2], filename="r.xlsx", expect=422)
    assert truncated_zip["code"] == "import.unreadable_file"

    broken_sheet = _broken_workbook(workbook)
    answer = client.post("/api/v1/imports/roster", headers=city, content_type="multipart/form-data",
                         data={"file": (io.BytesIO(broken_sheet), "r.xlsx")})
    if answer.status_code == 202:  # a workbook is read by the job: it meets the damage and says so
        # (the job marks the import failed through its own connection, which cannot see this
        # test's uncommitted import: the job's work is run here, in the test's transaction)
        from server.imports import reading, service

        with pytest.raises(reading.FileProblem) as failed:
            service.process_import(session, vault, answer.json["id"], service.Progress(lambda **_: None))
        assert failed.value.code == "import.unreadable_file"
    else:
        assert answer.status_code == 422 and answer.json["code"] == "import.unreadable_file"

    # NUL bytes in a CSV (a truncated export) do not stop the other rows.
    with_nul = file_bytes(table.header, table.rows).replace(b"\n", b"\x00\n", 3)
    shown = upload(city, "roster", with_nul)
    assert shown["status"] == "done" and shown["progress"]["rows_ok"] == len(table.rows)

    bad_date = client.post("/api/v1/imports/roster", headers=city, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(with_nul), "r.csv"), "as_of": "yesterday"})
    assert bad_date.status_code == 422 and bad_date.json["code"] == "request.invalid"
    bad_format = client.get("/api/v1/imports/1/report?format=pdf", headers=city)
    assert bad_format.status_code == 422
