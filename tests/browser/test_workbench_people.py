"""People and tablets in the workbench (issue 15 item 2), in Chromium at both sizes: the city
creates an account and a team over villages; a town supervisor puts a surveyor on its team;
a supervisor issues an enrollment code, sees its QR, and revokes a tablet."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from server.accounts.models import Person, Team, team_members, team_villages
from server.accounts.passwords import hash_password
from server.accounts.scope import scope_of
from server.devices import service as devices
from server.devices.models import Device
from tests.browser.workbench import *  # noqa: F401,F403
from tests.browser.workbench import TEST_PASSWORD, log_in, open_page, shoot

TOWN = "320685001000"


def test_the_city_creates_an_account_and_a_team_with_villages(workbench_site, browser, viewport):
    watched = open_page(browser, workbench_site, viewport)
    page = log_in(watched, workbench_site, "city", "/workbench/people")
    tag = secrets.token_hex(3)
    form = page.locator("[data-test=person-form]")
    form.wait_for()
    # a taken username is told beside the field, in Chinese
    form.locator("input[name=username]").fill("town01")
    form.locator("input[name=full_name]").fill("重名测试")
    form.locator("select[name=role]").select_option("surveyor")
    form.locator("select[name=town_code]").select_option(TOWN)
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-test=person-form] .field-error:has-text('该用户名已被使用')")
    username = f"wb.{viewport}.{tag}"
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=full_name]").fill(f"新调查员{tag}")
    form.locator("select[name=line]").select_option("government")
    form.locator("input[name=phone]").fill("13800001234")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-test=created]")
    password = page.inner_text("[data-test=initial-password]").strip()
    assert len(password) >= 12
    shoot(watched, "people_created", viewport)
    answer = page.request.post(workbench_site["url"] + "/api/v1/auth/login",
                               data={"username": username, "password": password})
    assert answer.status == 200
    page.fill("[data-test=filter-q]", username)
    page.press("[data-test=filter-q]", "Enter")
    page.wait_for_selector(f"[data-test='person-{username}']:has-text('海安街道')")
    # a typo in the name and a new phone, corrected in place; a bad phone is told beside it
    row = page.locator(f"[data-test='person-{username}']")
    row.locator("[data-test=edit]").click()
    row.locator("[data-test=edit-name]").fill(f"新调查员{tag}改")
    row.locator("[data-test=edit-phone]").fill("电话")
    row.locator("[data-test=save-edit]").click()
    row.locator(".field-error:has-text('电话只能包含数字')").wait_for()
    shoot(watched, "people_edit_error", viewport)
    row.locator("[data-test=edit-phone]").fill("0513-88880000")
    row.locator("[data-test=save-edit]").click()
    page.wait_for_selector("[data-test=action-done]:has-text('已保存')")
    page.wait_for_selector(f"[data-test='person-{username}']:has-text('0513-88880000')")
    shoot(watched, "people_edited", viewport)
    with Session(workbench_site["engine"]) as session:
        edited = session.scalar(select(Person).where(Person.username == username))
        assert (edited.full_name, edited.phone) == (f"新调查员{tag}改", "0513-88880000")

    page.click("[data-test=tab-teams]")
    team_form = page.locator("[data-test=team-form]")
    team_name = f"测试包村工作组{tag}"
    team_form.locator("input[name=name]").fill(team_name)
    team_form.locator("select[name=town_code]").select_option(TOWN)
    boxes = team_form.locator("input[type=checkbox]")
    boxes.first.wait_for()
    boxes.nth(0).check()
    boxes.nth(1).check()
    team_form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-test=team-created]:has-text('包 2 个村')")
    page.wait_for_selector(f"[data-test=teams-table] tr:has-text('{team_name}')")
    shoot(watched, "people_team_created", viewport)
    with Session(workbench_site["engine"]) as session:
        team = session.scalar(select(Team).where(Team.name == team_name))
        assert team.town_code == TOWN and team.line == "government"
        codes = session.scalars(select(team_villages.c.village_code).where(team_villages.c.team_id == team.id)).all()
        assert len(codes) == 2 and all(c.startswith(TOWN[:9]) for c in codes)
    watched.assert_clean()


def _new_surveyor(site, town: str, tag: str) -> Person:
    with Session(site["engine"], expire_on_commit=False) as session:
        person = Person(username=f"wb.s.{tag}", full_name=f"待分配{tag}", role="surveyor", line="government",
                        town_code=town, password_hash=hash_password(TEST_PASSWORD))
        session.add(person)
        session.commit()
        return person


def test_a_town_supervisor_adds_a_surveyor_to_its_team(workbench_site, browser, viewport):
    tag = secrets.token_hex(3)
    person = _new_surveyor(workbench_site, TOWN, tag)
    watched = open_page(browser, workbench_site, viewport)
    page = log_in(watched, workbench_site, "town_supervisor", "/workbench/people")
    assert page.locator("[data-test=person-form]").count() == 0  # accounts are the bureau's
    page.click("[data-test=tab-teams]")
    row = page.locator("[data-test=teams-table] tr", has_text="海安街道政府线包村工作组1")
    row.locator("[data-test=manage]").click()
    # only town 01's teams are listed
    assert "区镇督导" not in page.inner_text("[data-test=teams-table]")
    towns = page.locator("[data-test=teams-table] tbody tr:not(.detail) td:nth-child(2)").all_inner_texts()
    assert towns and set(towns) == {"海安街道"}
    page.select_option("[data-test=add-member]", str(person.id))
    page.click("form.inline button:has-text('加入')")
    page.wait_for_selector(f"[data-test=members] li:has-text('{person.full_name}')")
    shoot(watched, "people_team_member", viewport)
    with Session(workbench_site["engine"]) as session:
        team_id = session.scalar(select(Team.id).where(Team.name == "海安街道政府线包村工作组1"))
        assert session.scalar(select(team_members.c.person_id).where(
            team_members.c.team_id == team_id, team_members.c.person_id == person.id)) == person.id
    # the surveyor now reaches the team's villages
    token = page.request.post(workbench_site["url"] + "/api/v1/auth/login",
                              data={"username": person.username, "password": TEST_PASSWORD}).json()["token"]
    me = page.request.get(workbench_site["url"] + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["village_codes"] and all(c.startswith(TOWN[:9]) for c in me["village_codes"])
    # taken off again: asked first; a cancel keeps them, a confirmation removes them
    member = page.locator(f"[data-test=members] li:has-text('{person.full_name}')")
    member.locator("[data-test=remove-member]").click()
    assert "确认移出" in member.locator("[data-test=remove-question]").inner_text()
    shoot(watched, "people_team_remove_member", viewport)
    member.locator("button:has-text('取消')").click()
    assert member.locator("[data-test=remove-question]").count() == 0
    member.locator("[data-test=remove-member]").click()
    member.locator("[data-test=confirm-remove]").click()
    page.wait_for_selector(f"[data-test=members] li:has-text('{person.full_name}')", state="detached")
    with Session(workbench_site["engine"]) as session:
        assert session.scalar(select(team_members.c.person_id).where(
            team_members.c.team_id == team_id, team_members.c.person_id == person.id)) is None
    watched.assert_clean()


def _tablet(site, surveyor: str, name: str) -> str:
    with Session(site["engine"]) as session:
        issuer = session.scalar(select(Person).where(Person.username == "town01"))
        person = session.scalar(select(Person).where(Person.username == surveyor))
        code, _row = devices.issue_code(session, issuer, scope_of(session, issuer), person.id, dt.timedelta(hours=1))
        device, _token = devices.enroll(session, code, name, "android", dt.timedelta(days=30))
        session.execute(text("UPDATE devices SET last_seen_at = now() - interval '3 hours' WHERE id = :id"),
                        {"id": device.id})
        session.commit()
        return str(device.id)


def test_a_supervisor_issues_an_enrollment_code_sees_its_qr_and_revokes_a_tablet(workbench_site, browser, viewport):
    tag = secrets.token_hex(3)
    device_name = f"测试平板{tag}"
    device_id = _tablet(workbench_site, "t01g01.s1", device_name)
    watched = open_page(browser, workbench_site, viewport)
    page = log_in(watched, workbench_site, "town_supervisor", "/workbench/tablets")
    row = page.locator(f"[data-test=device-{device_id}]")
    row.wait_for()
    assert "海安街道政府线包村工作组1" in row.inner_text() and "使用中" in row.inner_text()
    assert "年" in row.locator("[data-test=last-sync]").inner_text()

    with Session(workbench_site["engine"]) as session:
        surveyor_id = session.scalar(select(Person.id).where(Person.username == "t01g01.s1"))
    page.select_option("[data-test=surveyor]", str(surveyor_id))
    page.click("[data-test=issue-code]")
    page.wait_for_selector("[data-test=qr]")
    source = page.get_attribute("[data-test=qr]", "src")
    assert source.startswith("data:image/png;base64,")
    assert page.eval_on_selector("[data-test=qr]", "img => img.complete && img.naturalWidth > 100")
    code = page.inner_text("[data-test=enrollment-code]").replace(" ", "")
    assert len(code) == 10
    assert "年" in page.inner_text("[data-test=expires]")
    shoot(watched, "tablets_code", viewport)
    # the code works once, on a tablet
    enrolled = page.request.post(workbench_site["url"] + "/api/v1/devices/enroll",
                                 data={"enrollment_code": code, "device_name": f"扫码平板{tag}"})
    assert enrolled.status == 200

    row.locator("[data-test=revoke]").click()
    row.locator("[data-test=confirm-revoke]").click()
    page.wait_for_selector("[data-test=revoked]")
    # revoked tablets are hidden unless asked for
    page.wait_for_selector(f"[data-test=device-{device_id}]", state="detached")
    page.check("text=显示已吊销的平板")
    assert "已吊销" in page.locator(f"[data-test=device-{device_id}]").inner_text()
    shoot(watched, "tablets_revoked", viewport)
    with Session(workbench_site["engine"]) as session:
        assert session.get(Device, device_id).revoked_at is not None
    watched.assert_clean()


def test_odk_collect_settings_are_issued_as_a_qr(workbench_site, browser):
    watched = open_page(browser, workbench_site)
    page = log_in(watched, workbench_site, "team_leader", "/workbench/tablets")
    page.wait_for_selector("[data-test=surveyor] option:nth-child(2)", state="attached")
    page.select_option("[data-test=surveyor]", index=1)
    page.fill("input[name=device_name]", "组长的 Collect")
    page.click("[data-test=issue-collect]")
    page.wait_for_selector("[data-test=issued]:has-text('ODK Collect 配置')")
    assert page.get_attribute("[data-test=qr]", "src").startswith("data:image/png;base64,")
    page.wait_for_selector("[data-test=devices-table] tr:has-text('组长的 Collect')")
    watched.assert_clean()
