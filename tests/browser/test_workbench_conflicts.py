"""冲突审核 and 疑似重复 in Chromium, as a town supervisor does them: each value with its surveyor,
line, team and Beijing time, identical values once, labels from the forms; a decision with a note
and a confirmation; someone else deciding first told in Chinese and the list read again; a
duplicate pair compared side by side, then merged or kept apart.

The shared site's own conflicts and pairs stay for other tests: each test here makes its own,
with the demo's real tablets as the givers."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.browser.workbench import *  # noqa: F401,F403
from tests.browser.workbench import TEST_PASSWORD, log_in, open_page, shoot

FIELD_WEEK = dt.datetime(2026, 5, 26, tzinfo=dt.UTC)


def _labels(site) -> dict:
    from server.labels import service

    with site["app"].app_context(), Session(site["engine"]) as session:
        return service.labels(session)["fields"]


def _tablets(conn, village_code: str) -> dict:
    """The demo tablets of the two lines' teams over a village: {line: (device id, surveyor, team)}."""
    rows = conn.execute(text(
        "SELECT t.line, d.id, p.full_name, t.name FROM devices d JOIN people p ON p.id = d.person_id"
        " JOIN team_members m ON m.person_id = p.id JOIN teams t ON t.id = m.team_id"
        " JOIN team_villages tv ON tv.team_id = t.id AND tv.village_code = :v"
        " WHERE d.revoked_at IS NULL ORDER BY d.enrolled_at"), {"v": village_code}).all()
    out = {}
    for line, device_id, surveyor, team in rows:
        out.setdefault(line, (str(device_id), surveyor, team))
    return out


def _make_conflict(site) -> dict:
    """A guardian's phone both lines wrote down the same, and the school line's teacher a newer
    number two hours later: an open conflict on a town-01 child with no other open conflict."""
    with site["engine"].begin() as conn:
        village = conn.execute(text(
            "SELECT v.code, v.name FROM villages v WHERE v.town_code = :t AND"
            " (SELECT count(DISTINCT t.line) FROM team_villages tv JOIN teams t ON t.id = tv.team_id"
            "   JOIN team_members m ON m.team_id = t.id JOIN devices d ON d.person_id = m.person_id"
            "  WHERE tv.village_code = v.code) = 2 ORDER BY v.code LIMIT 1"), {"t": site["town"]}).one()
        tablets = _tablets(conn, village.code)
        child = conn.execute(text(
            "SELECT c.id, c.name, h.head_name FROM children c JOIN households h ON h.id = c.household_id"
            " WHERE c.village_code = :v AND c.name IS NOT NULL AND h.head_name IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM conflicts x WHERE x.record_id = c.id)"
            " ORDER BY c.id LIMIT 1"), {"v": village.code}).one()
        same, newer = "13962710358", "13862790412"
        gov, school = tablets["government"], tablets["school"]
        values = [
            {"value": same, "device_id": gov[0], "captured_at": (FIELD_WEEK + dt.timedelta(hours=1, minutes=15)).isoformat()},
            {"value": same, "device_id": school[0], "captured_at": (FIELD_WEEK + dt.timedelta(hours=3, minutes=40)).isoformat()},
            {"value": newer, "device_id": school[0], "captured_at": (FIELD_WEEK + dt.timedelta(hours=5, minutes=5)).isoformat()},
        ]
        conflict_id = uuid.uuid4()
        conn.execute(text(
            "INSERT INTO conflicts (id, record_type, record_id, village_code, field, values, created_at)"
            " VALUES (:id, 'child', :rid, :v, 'guardian_phone', CAST(:values AS jsonb), :at)"),
            {"id": conflict_id, "rid": child.id, "v": village.code, "values": json.dumps(values),
             "at": FIELD_WEEK + dt.timedelta(hours=5, minutes=6)})  # the sync after; before the demo's own
    return {"id": str(conflict_id), "child": child, "village": village, "gov": gov, "school": school,
            "same": same, "newer": newer}


def _card(page, conflict_id):
    return page.locator(f"[data-test=conflict][data-conflict='{conflict_id}']")


def test_a_town_supervisor_reads_a_conflict_with_its_surveyors_and_resolves_it_with_a_note(
        workbench_site, browser, viewport):
    made = _make_conflict(workbench_site)
    labels = _labels(workbench_site)
    watched = open_page(browser, workbench_site, viewport)
    page = log_in(watched, workbench_site, "town_supervisor", "/workbench/conflicts")
    if viewport == "tablet":
        page.click(".menu-toggle")
    page.wait_for_selector("[data-test=nav-conflicts]")
    assert page.inner_text("[data-test=nav-conflicts]") == "冲突审核"
    assert page.inner_text("[data-test=nav-duplicates]") == "疑似重复"
    if viewport == "tablet":
        page.click(".menu-toggle")  # folded again
    card = _card(page, made["id"])
    card.wait_for()
    content = card.inner_text()
    # the field by the form's own label, never its code
    assert labels["child"]["guardian_phone"]["label"] in content and "guardian_phone" not in content
    # the household and village
    assert made["child"].name in content and made["child"].head_name in content and made["village"].name in content
    # identical values once, with everyone who gave them; each with surveyor, line, team, Beijing time
    options = card.locator("[data-test=option]")
    assert options.count() == 2
    first = options.nth(0).inner_text()
    assert made["same"] in first and "2 人填写" in first
    assert made["gov"][1] in first and made["school"][1] in first and made["gov"][2] in first
    assert "政府线" in first and "学校线" in first
    assert "2026年5月26日 09:15" in first and "2026年5月26日 11:40" in first  # 01:15 and 03:40 UTC
    second = options.nth(1).inner_text()
    assert made["newer"] in second and "2026年5月26日 13:05" in second and made["school"][1] in second

    # the village filter keeps this village's conflicts only
    page.select_option("[data-test=village-filter]", made["village"].code)
    page.wait_for_function("code => [...document.querySelectorAll('[data-test=village]')].every("
                           "e => e.textContent.includes(code))", arg=made["village"].name)
    card = _card(page, made["id"])
    card.wait_for()
    options = card.locator("[data-test=option]")
    # asking without a choice says so; a choice and a note, then the confirmation
    card.locator("[data-test=resolve]").click()
    assert "请先选择" in card.inner_text()
    options.nth(1).locator("input[type=radio]").check()
    card.locator("[data-test=note]").fill("电话联系家长，确认已换新号码")
    card.locator("[data-test=resolve]").click()
    confirm = card.locator("[data-test=confirm]")
    confirm.wait_for()
    assert made["newer"] in confirm.inner_text()
    shoot(watched, "conflict_confirm", viewport)
    confirm.locator("[data-test=confirm-yes]").click()
    page.wait_for_selector("[data-test=done]")
    assert made["newer"] in page.inner_text("[data-test=done]")
    assert _card(page, made["id"]).count() == 0  # no longer waiting
    with workbench_site["engine"].connect() as conn:
        status, resolution, phone = conn.execute(text(
            "SELECT x.status, x.resolution, c.guardian_phone FROM conflicts x JOIN children c ON c.id = x.record_id"
            " WHERE x.id = :id"), {"id": made["id"]}).one()
    assert status == "resolved" and phone == made["newer"]
    assert resolution["note"] == "电话联系家长，确认已换新号码"
    # the decision among the handled ones, with who decided and the note
    page.click("[data-test=status-resolved]")
    done = _card(page, made["id"])
    done.wait_for()
    assert "电话联系家长，确认已换新号码" in done.inner_text() and "海安街道督导" in done.inner_text()
    assert made["newer"] in done.locator("[data-test=kept]").locator("xpath=..").inner_text()
    shoot(watched, "conflicts_resolved", viewport)
    watched.assert_clean()


def _api_login(page, site, username):
    response = page.request.post(site["url"] + "/api/v1/auth/login",
                                 data={"username": username, "password": TEST_PASSWORD})
    assert response.ok, response.text()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_a_stale_resolve_is_told_in_chinese_and_the_list_is_read_again(workbench_site, browser, viewport):
    made = _make_conflict(workbench_site)
    watched = open_page(browser, workbench_site, viewport)
    page = log_in(watched, workbench_site, "town_supervisor", "/workbench/conflicts")
    card = _card(page, made["id"])
    card.wait_for()
    card.locator("[data-test=option]").nth(0).locator("input[type=radio]").check()
    card.locator("[data-test=note]").fill("按政府线")
    card.locator("[data-test=resolve]").click()
    card.locator("[data-test=confirm]").wait_for()
    # meanwhile the bureau decides it
    city = _api_login(page, workbench_site, workbench_site["users"]["city"])
    decided = page.request.post(f"{workbench_site['url']}/api/v1/conflicts/{made['id']}/resolve", headers=city,
                                data={"value": made["newer"], "note": "市局已核实"})
    assert decided.ok, decided.text()
    card.locator("[data-test=confirm-yes]").click()
    stale = page.locator("[data-test=stale]")
    stale.wait_for()
    assert "已由他人处理" in stale.inner_text()
    page.wait_for_function("id => !document.querySelector(`[data-conflict='${id}']`)", arg=made["id"])
    shoot(watched, "conflict_stale", viewport)
    with workbench_site["engine"].connect() as conn:
        resolution = conn.execute(text("SELECT resolution FROM conflicts WHERE id = :id"), {"id": made["id"]}).scalar()
    assert resolution["value"] == made["newer"] and resolution["note"] == "市局已核实"  # the first decision stands
    page.click("[data-test=status-resolved]")
    _card(page, made["id"]).wait_for()
    assert "市局已核实" in _card(page, made["id"]).inner_text()
    watched.assert_clean()


def _make_pair(site) -> dict:
    """A child the school line's teacher recorded anew on its tablet in the same household, with
    another guardian phone and grade: a same-name-birth-household pair, first in the queue."""
    with site["engine"].begin() as conn:
        village = conn.execute(text(
            "SELECT v.code FROM villages v WHERE v.town_code = :t ORDER BY v.code LIMIT 1"), {"t": site["town"]}).one()
        tablets = _tablets(conn, village.code)
        original = conn.execute(text(
            "SELECT c.id, c.name FROM children c WHERE c.village_code = :v AND c.name IS NOT NULL"
            " AND c.birth_date IS NOT NULL AND c.grade IS NOT NULL AND c.class_name IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM duplicate_candidates d WHERE c.id IN (d.child_a, d.child_b))"
            " AND NOT EXISTS (SELECT 1 FROM conflicts x WHERE x.record_id = c.id AND x.status = 'open')"
            " ORDER BY c.id LIMIT 1"), {"v": village.code}).one()
        copy = uuid.uuid4()
        conn.execute(text(
            "INSERT INTO children (id, household_id, village_code, name, gender, birth_date, enrollment_status,"
            " school_name, grade, guardian_name, guardian_phone, disability, left_behind, migrant,"
            " vulnerable_family_types)"
            " SELECT :copy, household_id, village_code, name, gender, birth_date, 'enrolled', school_name,"
            " grade + 1, guardian_name, '13951234567', disability, left_behind, migrant, vulnerable_family_types"
            " FROM children WHERE id = :id"), {"copy": copy, "id": original.id})
        device_id, _, _ = tablets["school"]
        person_id = conn.execute(text("SELECT person_id FROM devices WHERE id = :d"), {"d": device_id}).scalar()
        captured = (FIELD_WEEK + dt.timedelta(hours=2, minutes=20)).isoformat()
        conn.execute(text(
            "INSERT INTO submissions (submission_id, device_id, person_id, device_seq, received_at, content_sha256,"
            " record_type, record_id, payload, receipt)"
            " VALUES (:s, :d, :p, 900000, :at, :sha, 'child', :copy, CAST(:payload AS jsonb), '{}')"),
            {"s": uuid.uuid4(), "d": device_id, "p": person_id, "at": FIELD_WEEK + dt.timedelta(hours=4),
             "sha": hashlib.sha256(str(copy).encode()).hexdigest(), "copy": copy,
             "payload": json.dumps({"captured_at": captured, "record": {"type": "child", "id": str(copy), "base_version": None}})})
        a, b = sorted([original.id, copy])
        pair_id = conn.execute(text(
            "INSERT INTO duplicate_candidates (child_a, child_b, village_code, reason, created_at)"
            " VALUES (:a, :b, :v, 'same_name_birth_household', :at) RETURNING id"),
            {"a": a, "b": b, "v": village.code, "at": FIELD_WEEK + dt.timedelta(hours=4)}).scalar()
    return {"id": pair_id, "original": original, "copy": copy, "teacher": tablets["school"][1],
            "sides": [str(a), str(b)]}


def test_a_duplicate_pair_is_compared_side_by_side_then_merged_or_kept_apart(workbench_site, browser, viewport):
    made = _make_pair(workbench_site)
    labels = _labels(workbench_site)
    watched = open_page(browser, workbench_site, viewport)
    page = log_in(watched, workbench_site, "town_supervisor", "/workbench/duplicates")
    card = page.locator(f"[data-test=pair][data-pair='{made['id']}']")
    card.wait_for()
    content = card.inner_text()
    assert "同一户中姓名、出生日期相同" in content
    assert content.count(made["original"].name) >= 2  # the two records side by side
    assert made["teacher"] in content and "学校线" in content and "2026年5月26日 10:20" in content
    assert "花名册导入" in card.locator("[data-test=row-recorded]").inner_text()  # the original came with the roster
    # differences marked, by the forms' labels
    for field in ("guardian_phone", "grade", "class_name"):
        row = card.locator(f"[data-test=row-{field}]")
        assert "不同" in row.inner_text(), field
        assert labels["child"][field]["label"] in row.inner_text()
        assert "diff" in row.get_attribute("class")
    assert "不同" not in card.locator("[data-test=row-name]").inner_text()
    assert labels["child"]["enrollment_status"]["label"] in card.locator("[data-test=row-enrollment_status]").inner_text()
    assert "enrollment_status" not in content and "enrolled" not in content and "class_name" not in content

    keep = made["sides"].index(str(made["original"].id))
    if viewport == "desktop":
        card.locator("[data-test=merge]").click()
        assert "请先选择要保留的记录" in card.inner_text()
        card.locator(f"[data-test=keep-{keep}]").check()
        card.locator("[data-test=merge]").click()
        card.locator("[data-test=confirm]").wait_for()
        assert "确定保留记录" in card.locator("[data-test=confirm]").inner_text()
        shoot(watched, "duplicates_confirm", viewport)
        card.locator("[data-test=confirm-yes]").click()
        page.wait_for_selector("[data-test=done]")
        assert "已合并" in page.inner_text("[data-test=done]")
        with workbench_site["engine"].connect() as conn:
            left = conn.execute(text("SELECT count(*) FROM children WHERE id = :id"), {"id": made["copy"]}).scalar()
            outcome = conn.execute(text("SELECT outcome FROM duplicate_candidates WHERE id = :id"),
                                   {"id": made["id"]}).scalar()
        assert left == 0 and outcome == "merged"
    else:
        card.locator("[data-test=dismiss]").click()
        card.locator("[data-test=confirm]").wait_for()
        shoot(watched, "duplicates_confirm", viewport)
        card.locator("[data-test=confirm-yes]").click()
        page.wait_for_selector("[data-test=done]")
        assert "两条记录都保留" in page.inner_text("[data-test=done]")
        with workbench_site["engine"].connect() as conn:
            outcome = conn.execute(text("SELECT outcome FROM duplicate_candidates WHERE id = :id"),
                                   {"id": made["id"]}).scalar()
            audited = conn.execute(text(
                "SELECT count(*) FROM audit_events WHERE subject_type = 'duplicate_candidate' AND subject_id = :id"),
                {"id": str(made["id"])}).scalar()
        assert outcome == "distinct" and audited == 1
    assert page.locator(f"[data-test=pair][data-pair='{made['id']}']").count() == 0
    page.click("[data-test=status-resolved]")
    page.locator(f"[data-test=pair][data-pair='{made['id']}'] [data-test=outcome]").wait_for()
    shoot(watched, "duplicates_resolved", viewport)
    watched.assert_clean()


def test_a_second_decision_on_a_pair_is_told_and_the_list_is_read_again(workbench_site, browser):
    made = _make_pair(workbench_site)
    watched = open_page(browser, workbench_site, "desktop")
    page = log_in(watched, workbench_site, "town_supervisor", "/workbench/duplicates")
    card = page.locator(f"[data-test=pair][data-pair='{made['id']}']")
    card.wait_for()
    card.locator("[data-test=dismiss]").click()
    card.locator("[data-test=confirm]").wait_for()
    city = _api_login(page, workbench_site, workbench_site["users"]["city"])
    assert page.request.post(f"{workbench_site['url']}/api/v1/duplicates/{made['id']}/dismiss", headers=city).ok
    card.locator("[data-test=confirm-yes]").click()
    page.locator("[data-test=stale]").wait_for()
    assert "已由他人处理" in page.inner_text("[data-test=stale]")
    page.wait_for_function("id => !document.querySelector(`[data-pair='${id}']`)", arg=str(made["id"]))
    watched.assert_clean()
