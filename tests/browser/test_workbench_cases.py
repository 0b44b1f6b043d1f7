"""Issue 15 item 3 in Chromium: a town supervisor filters and searches the cases, opens one, takes
a step through its form (told beside the field what is missing), issues a notice and prints it;
a school confirms a return; a town's notices printed in one go. At both sizes, nothing fetched
from outside the server."""

from __future__ import annotations

import datetime as dt
import io
import random
import uuid

from pypdf import PdfReader
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.browser.workbench import *  # noqa: F401,F403
from tests.browser.workbench import log_in, open_page, shoot

TOWN01 = "320685001000"


_POOL = "晨曦书言墨溪禾清和安宁远舟语桐柏杉蕴澄岚朗逸"


def _make_case(site, town=TOWN01, **fields):
    """A dropout of its own in a household of `town`, whose case the database opens (the trigger on
    children): the site is shared, and the tiny county has few open cases to go round."""
    from server.cases.models import Case
    from server.people import id_number
    from server.people.models import Child, Household
    from server.people.protection import child_subject
    from server.places.models import Village

    vault = site["app"].extensions["notoneless.vault"]
    with site["app"].app_context(), Session(site["engine"]) as session:
        household = session.scalars(select(Household).join(Village, Village.code == Household.village_code)
                                    .where(Village.town_code == town).order_by(Household.id)).first()
        taken = set(session.scalars(select(Child.name)))
        rng = random.Random()
        name = next(n for n in ("邵" + rng.choice(_POOL) + rng.choice(_POOL) for _ in range(1000)) if n not in taken)
        birth = dt.date(2013, rng.randint(1, 12), rng.randint(1, 28))
        while True:
            number = id_number.make("320685", birth, rng.randrange(1, 999, 2))
            if session.scalar(select(Child.id).where(Child.id_number_lookup == vault.lookup(number))) is None:
                break
        child_id = uuid.uuid4()
        session.add(Child(id=child_id, household_id=household.id, village_code=household.village_code, name=name,
                          gender="M", birth_date=birth, id_number_cipher=vault.encrypt(number, child_subject(child_id)),
                          id_number_lookup=vault.lookup(number), enrollment_status="dropped_out",
                          guardian_name="邵建国", **fields))
        session.commit()
        case_id = session.scalar(select(Case.id).where(Case.child_id == child_id, Case.closed_at.is_(None)))
    assert case_id is not None
    return case_id, name, number


def _render_notices(site, case_id):
    """What the worker does after the commit (no worker runs beside the test server)."""
    from server.cases import jobs
    with site["app"].app_context(), Session(site["engine"]) as session:
        for (notice_id,) in session.execute(text("SELECT id FROM notices WHERE case_id = :c AND status = 'queued'"),
                                            {"c": case_id}):
            jobs.render_notice_in(session, notice_id, "海安市教育体育局")
        session.commit()


def _nav(page, name: str):
    """The menu entry `name`; on a tablet upright the menu opens from ☰ first."""
    if page.locator(".menu-toggle").is_visible():
        page.click(".menu-toggle")
    page.click(f"[data-test=nav-{name}]")


def _fetch(page, url: str) -> bytes:
    """The bytes the page was answered (a blob the browser opened is not kept), asked again with its login."""
    token = page.evaluate("() => JSON.parse(localStorage.getItem('nol-workbench')).token")
    answer = page.request.get(url, headers={"Authorization": f"Bearer {token}"})
    assert answer.status == 200
    return answer.body()


def _pdf_text(data: bytes) -> str:
    return "".join(p.extract_text().replace("\n", "") for p in PdfReader(io.BytesIO(data)).pages)


def test_a_town_supervisor_finds_a_case_takes_a_step_and_prints_a_notice(workbench_site, browser, viewport):
    case_id, name, number = _make_case(workbench_site)
    watched = open_page(browser, workbench_site, viewport)
    page = log_in(watched, workbench_site, "town_supervisor")
    _nav(page, "cases")
    page.wait_for_selector("[data-test=case-row]")
    assert "第 1 /" in page.inner_text(".page-nav")
    # the list shows ID numbers masked (the region only), as the API gives them
    first_number = page.locator("[data-test=case-row] td.mono").first.inner_text()
    assert first_number.startswith("320685") and "*" in first_number
    shoot(watched, "cases_list", viewport)

    # filters: the overdue ones of one step
    page.select_option("[data-test=case-filters] select[name=status]", "identified")
    page.select_option("[data-test=case-filters] select[name=overdue]", "false")
    page.click("[data-test=case-search]")
    page.wait_for_selector("[data-test=case-list][data-loaded*='status=identified']")
    for badge in page.locator("[data-test=case-row] .badge:not(.bad)").all_inner_texts():
        assert badge == "已确认未入学/辍学"
    assert page.locator("[data-test=case-row] .badge.bad").count() == 0

    # a part of an ID number is refused in Chinese; the whole number finds the child
    page.click("text=清空")
    page.fill("[data-test=case-filters] input[name=q]", number[:12])
    page.click("[data-test=case-search]")
    page.wait_for_selector("[role=alert]:has-text('身份证号须完整')")
    page.fill("[data-test=case-filters] input[name=q]", number)
    page.click("[data-test=case-search]")
    page.wait_for_selector("[data-test=case-list][data-loaded$=' id-number']")
    page.wait_for_selector(f"[data-test=case-row]:has-text('{name}')")
    assert page.locator("[data-test=case-row]").count() == 1
    # the list shows it masked, and the number stays out of the address (the browser's history)
    assert number not in page.inner_text("[data-test=case-list]") and number not in page.url
    # and by name
    page.fill("[data-test=case-filters] input[name=q]", name)
    page.click("[data-test=case-search]")
    page.wait_for_url("**/cases?q=**")
    page.wait_for_selector(f"[data-test=case-row]:has-text('{name}')")
    page.click(f"[data-test=case-row] a:has-text('{name}')")

    page.wait_for_selector("[data-test=case-head]")
    assert page.url.endswith(f"/workbench/cases/{case_id}")
    assert name in page.inner_text("[data-test=case-head]")
    # the town supervisor reads the number in full in the case's own read
    assert page.inner_text("[data-test=case-id-number]") == number
    household = page.inner_text("[data-test=case-household]")
    assert "户主" in household and "组 / 号" in household
    assert "开案" in page.inner_text("[data-test=case-timeline]")

    # the steps offered are those of the case's status: 开始劝返 and 依规免于入学, no 确认复学
    assert page.locator("[data-test=step-persuading]").count() == 1
    assert page.locator("[data-test=step-returned]").count() == 0
    page.click("[data-test=step-persuading]")
    page.fill("[data-test=step-form] textarea[name=note]", "第一次上门劝返，家长同意考虑")
    page.click("[data-test=step-submit]")
    page.wait_for_selector("[data-test=case-status]:has-text('劝返中')")
    timeline = page.inner_text("[data-test=case-timeline]")
    assert "已确认未入学/辍学 → 劝返中" in timeline and "第一次上门劝返" in timeline
    assert "海安街道督导" in timeline or workbench_site["users"]["town_supervisor"] in timeline
    assert ":" in page.locator("[data-test=case-event] .when").last.inner_text()

    # escalating needs a deadline: left out, the form says so beside the field
    page.click("[data-test=step-escalated]")
    page.click("[data-test=step-submit]")
    page.wait_for_selector("[data-test=field-error-deadline]:has-text('请填写限期')")
    shoot(watched, "case_step_error", viewport)
    # the server's own day decides what "ahead" is (no pinned day on this site)
    deadline = dt.date.today() + dt.timedelta(days=20)
    page.fill("[data-test=step-form] input[name=deadline]", deadline.isoformat())
    page.click("[data-test=step-submit]")
    page.wait_for_selector("[data-test=case-status]:has-text('已报区镇政府')")
    written = f"限期 {deadline.year}年{deadline.month}月{deadline.day}日"
    assert written in page.inner_text("[data-test=case-timeline]")

    # a notice: choose the kind, set where to report and whom to call; numbered, then printed
    page.click("[data-test=step-notice_issued]")
    form = page.locator("[data-test=notice-form]")
    form.locator("select[name=kind]").select_option("deadline")
    form.locator("input[name=report_place]").fill("学校教务处")
    form.locator("input[name=contact_name]").fill("张丽")
    form.locator("input[name=contact_phone]").fill("0513-88123456")
    form.locator("[data-test=notice-submit]").click()
    page.wait_for_selector("[role=status]:has-text('文号')")
    page.wait_for_selector("[data-test=case-status]:has-text('已发书面通知')")
    page.wait_for_selector("[data-test=notice-queued]")
    _render_notices(workbench_site, case_id)
    page.wait_for_selector("[data-test=notice-print]", timeout=15000)
    row = page.inner_text("[data-test=notice-row]")
    # 责令限期改正 is the town government's act: 海安街道's 办事处 issues it
    assert "限期入学通知书" in row and "海安街道办事处" in row and "学校教务处" in row and "张丽" in row
    number_text = page.locator("[data-test=notice-row] td").nth(1).inner_text()
    with page.expect_response(lambda r: "/api/v1/notices/" in r.url and r.url.endswith("/pdf")) as answer, \
            page.context.expect_page() as popup:
        page.click("[data-test=notice-print]")
    assert answer.value.status == 200 and answer.value.headers["content-type"] == "application/pdf"
    content = _pdf_text(_fetch(page, answer.value.url))
    assert number_text in content and "第五十八条" in content and "送达回证" in content and "张丽" in content
    assert popup.value.url.startswith("blob:")
    popup.value.close()
    shoot(watched, "case_page", viewport)
    watched.assert_clean()


def test_a_school_confirms_a_return_from_its_own_list(workbench_site, browser, viewport):
    school_user = workbench_site["users"]["school"]
    with workbench_site["engine"].begin() as conn:
        school_id, school_name, town = conn.execute(text(
            "SELECT s.id, s.name, s.town_code FROM people p JOIN schools s ON s.id = p.school_id "
            "WHERE p.username = :u"), {"u": school_user}).one()
    case_id, name, _number = _make_case(workbench_site, town)
    # the town named the school the child is back in (POST /cases/<id>/return-school), here as the
    # town supervisor through the page
    watched = open_page(browser, workbench_site, viewport)
    page = watched.page
    if town == TOWN01:
        log_in(watched, workbench_site, "town_supervisor", f"/workbench/cases/{case_id}")
        page.wait_for_selector("[data-test=return-school-form]")
        page.select_option("[data-test=return-school-form] select", str(school_id))
        page.click("[data-test=return-school-submit]")
        page.wait_for_selector("[role=status]:has-text('已交学校确认')")
        page.wait_for_selector(f"[data-test=case-timeline]:has-text('交{school_name}确认复学')")
        page.click("[data-test=logout]")
        page.wait_for_selector("[data-test=login-form]")
    else:
        with workbench_site["engine"].begin() as conn:
            conn.execute(text("UPDATE cases SET return_school_id = :s, return_school_name = :n WHERE id = :c"),
                         {"s": school_id, "n": school_name, "c": case_id})

    log_in(watched, workbench_site, "school")
    _nav(page, "cases")
    page.fill("[data-test=case-filters] input[name=q]", name)
    page.click("[data-test=case-search]")
    page.wait_for_selector(f"[data-test=case-row]:has-text('{name}')")
    shoot(watched, "cases_school", viewport)
    page.click(f"[data-test=case-row] a:has-text('{name}')")
    page.wait_for_selector("[data-test=step-returned]")
    # a school confirms a return and nothing else; it prints no notices
    assert page.locator("[data-test=case-steps] .toolbar button").count() == 1
    assert page.locator("[data-test=notice-form]").count() == 0
    assert "*" in page.inner_text("[data-test=case-id-number]")
    page.click("[data-test=step-returned]")
    # its own school is the one it confirms, fixed
    assert page.locator("[data-test=step-form] select[name=school_id]").input_value() == str(school_id)
    page.fill("[data-test=step-form] input[name=return_date]", "")
    page.click("[data-test=step-submit]")
    page.wait_for_selector("[data-test=field-error-return_date]:has-text('请填写到校日期')")
    page.fill("[data-test=step-form] input[name=return_date]", "2026-05-25")
    page.click("[data-test=step-submit]")
    page.wait_for_selector("[data-test=case-status]:has-text('已复学')")
    assert "复学学校 " + school_name in page.inner_text("[data-test=case-head]")
    assert page.locator("[data-test=case-steps]").count() == 0  # closed: nothing more to do
    shoot(watched, "case_returned_school", viewport)
    with workbench_site["engine"].connect() as conn:
        status, returned_to = conn.execute(text("SELECT status, return_school_id FROM cases WHERE id = :c"),
                                           {"c": case_id}).one()
    assert (status, returned_to) == ("returned", school_id)
    watched.assert_clean()


def test_a_towns_notices_print_in_one_go(workbench_site, browser, viewport):
    # a notice of the town to print, whatever the other tests did
    case_id, *_ = _make_case(workbench_site)
    watched = open_page(browser, workbench_site, viewport)
    page = log_in(watched, workbench_site, "town_supervisor", f"/workbench/cases/{case_id}")
    form = page.locator("[data-test=notice-form]")
    form.locator("select[name=kind]").select_option("return")
    form.locator("[data-test=notice-submit]").click()
    page.wait_for_selector("[data-test=notice-queued]")
    _render_notices(workbench_site, case_id)
    page.wait_for_selector("[data-test=notice-print]", timeout=15000)
    with workbench_site["engine"].connect() as conn:
        expected = conn.execute(text(
            "SELECT n.number_text FROM notices n JOIN cases c ON c.id = n.case_id JOIN villages v "
            "ON v.code = c.village_code WHERE v.town_code = :t AND n.status = 'done' ORDER BY n.kind, n.year, n.number"),
            {"t": TOWN01}).scalars().all()

    _nav(page, "cases")
    page.wait_for_selector("[data-test=notices-batch]")
    with page.expect_response(lambda r: "/api/v1/notices/batch" in r.url) as answer, \
            page.context.expect_page() as popup:
        page.click("[data-test=batch-print]")
    assert answer.value.status == 200 and "format=pdf" in answer.value.url and f"town={TOWN01}" in answer.value.url
    reader = PdfReader(io.BytesIO(_fetch(page, answer.value.url)))
    pages = [p.extract_text().replace("\n", "") for p in reader.pages]
    assert len(pages) >= len(expected) >= 1
    joined = "".join(pages)
    assert all(number in joined for number in expected)
    popup.value.close()
    page.wait_for_selector("[data-test=notices-batch] [role=status]")
    # one kind only, as a zip to file
    page.select_option("[data-test=notices-batch] select[name=batch-kind]", "return")
    with page.expect_download() as download:
        page.click("[data-test=batch-zip]")
    assert download.value.suggested_filename.endswith(".zip")
    shoot(watched, "cases_batch", viewport)
    watched.assert_clean()
