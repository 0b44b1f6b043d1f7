"""数据导入 in the workbench (issue 15, item 9): the city uploads a roster of corrected rows with
the upload's progress, follows the import, and reads its problems with the child's name, town
and village: an error (the row was not imported) told apart from a warning (imported with the ID
number's birth date, verify); the past imports listed. A town supervisor uploads too."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os

from playwright.sync_api import expect
from sqlalchemy import text

from server.people import id_number
from tests.browser.jobs import run_jobs
from tests.browser.workbench import *  # noqa: F401,F403
from tests.browser.workbench import ARTIFACTS, log_in, open_page, shoot

HEADER = ["姓名", "性别", "公民身份号码", "出生日期", "民族", "户籍地址", "区镇", "村(社区)", "组", "户号",
          "户主姓名", "与户主关系", "监护人姓名", "联系电话"]


def _roster(site, tag: str) -> tuple[str, dict]:
    """A corrections roster for the county's last village (not town 01, which other tests read):
    a clean row, a row whose birth date disagrees with its valid ID number, and a row whose ID
    number's check digit is wrong."""
    county = site["county"]
    village = county.villages[-1]
    town = next(t for t in county.towns if t.code == village.town_code)
    seq = 700 + 20 * (tag == "tablet")
    good = id_number.make("320685", dt.date(2016, 4, 2), seq + 1)
    warned = id_number.make("320685", dt.date(2015, 3, 4), seq + 3)
    broken = id_number.make("320685", dt.date(2014, 6, 7), seq + 5)
    broken = broken[:17] + ("0" if broken[17] != "0" else "1")
    names = {"good": f"导入正常{tag}", "warned": f"导入核实{tag}", "broken": f"导入错误{tag}"}
    rows = [
        [names["good"], "男", good, "2016-04-02", "汉族", "", town.name, village.name, "9组", f"B{seq}1", "户主甲",
         "子女", "监护人甲", "13900000001"],
        [names["warned"], "男", warned, "2015-04-03", "汉族", "", town.name, village.name, "9组", f"B{seq}2",
         "户主乙", "子女", "监护人乙", "13900000002"],
        [names["broken"], "男", broken, "2014-06-07", "汉族", "", town.name, village.name, "9组", f"B{seq}3",
         "户主丙", "子女", "监护人丙", "13900000003"],
    ]
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *rows])
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, f"roster_corrections_{tag}.csv")
    with open(path, "wb") as f:
        f.write(out.getvalue().encode("utf-8-sig"))
    return path, {"names": names, "town": town.name, "village": village.name, "village_code": village.code,
                  "town_code": town.code}


def test_the_city_uploads_corrections_and_reads_errors_apart_from_warnings(workbench_site, browser, viewport):
    path, facts = _roster(workbench_site, viewport)
    with workbench_site["engine"].connect() as conn:
        missing_before = conn.scalar(text("SELECT count(*) FROM roster_entries WHERE missing_since_import_id IS NOT NULL"))
    watched = open_page(browser, workbench_site, viewport)
    page = log_in(watched, workbench_site, "city", "/workbench/imports")
    page.select_option("[data-test=import-mode]", "corrections")
    page.set_input_files("[data-test=import-file]", path)
    page.click("[data-test=import-submit]")
    page.wait_for_selector("[data-test=upload-progress]:has-text('100%')")
    page.wait_for_selector("[data-test=import-detail]")
    run_jobs(workbench_site, "imports")
    page.wait_for_selector("[data-test=import-status]:has-text('已完成')", timeout=20000)
    page.wait_for_selector("[data-test=problems] tbody tr[data-test^=problem-]")

    error = page.locator("[data-test=problem-error]")
    warning = page.locator("[data-test=problem-warning]")
    expect(error).to_have_count(1)
    expect(warning).to_have_count(1)
    err = error.first.locator("td").all_inner_texts()
    warn = warning.first.locator("td").all_inner_texts()
    # line, severity, name, town, village, column, problem, cell, imported as
    assert err[1] == "错误（未导入）" and err[2] == facts["names"]["broken"]
    assert (err[3], err[4]) == (facts["town"], facts["village"])
    assert "校验" in err[6]  # the check digit, said in Chinese
    assert warn[1] == "警告（已导入，请核实）" and warn[2] == facts["names"]["warned"]
    assert (warn[3], warn[4]) == (facts["town"], facts["village"])
    assert "请核实" in warn[6] and warn[8] == "2015-03-04"
    assert int(warn[0]) == 3 and int(err[0]) == 4
    assert "错误（未导入） 1" in page.inner_text("[data-test=severity-error]")
    assert "警告（已导入，请核实） 1" in page.inner_text("[data-test=severity-warning]")
    shoot(watched, "imports_city", viewport)

    # one severity at a time
    page.click("[data-test=severity-warning]")
    expect(page.locator("[data-test=problem-error]")).to_have_count(0)
    expect(page.locator("[data-test=problem-warning]")).to_have_count(1)
    # the list of past imports holds this one, in corrections mode
    row = page.locator("[data-test=imports] tbody tr").first
    assert "只含更正行" in row.inner_text() and "已完成" in row.inner_text()

    with workbench_site["engine"].connect() as conn:
        found = dict(conn.execute(text("SELECT name, birth_date FROM children WHERE name = ANY(:n)"),
                                  {"n": list(facts["names"].values())}).all())
        missing_after = conn.scalar(text("SELECT count(*) FROM roster_entries WHERE missing_since_import_id IS NOT NULL"))
    # the warned row is in the campaign with the ID number's birth date; the broken one is not
    assert found[facts["names"]["warned"]] == dt.date(2015, 3, 4)
    assert facts["names"]["good"] in found and facts["names"]["broken"] not in found
    # corrections mark no one else missing from the roster
    assert missing_after == missing_before
    watched.assert_clean()


def test_a_bad_file_is_refused_in_chinese_and_a_school_has_no_imports(workbench_site, browser, viewport):
    watched = open_page(browser, workbench_site, viewport)
    page = log_in(watched, workbench_site, "town_supervisor", "/workbench/imports")
    bad = os.path.join(ARTIFACTS, "not_a_roster.csv")
    os.makedirs(ARTIFACTS, exist_ok=True)
    with open(bad, "wb") as f:
        f.write("姓名,性别,出生日期\n张三,男,2015-03-04\n".encode("utf-8-sig"))
    page.set_input_files("[data-test=import-file]", bad)
    page.click("[data-test=import-submit]")
    page.wait_for_selector("[role=alert]:has-text('文件缺少必需的列')")
    assert "公民身份号码" in page.inner_text("[role=alert]")
    assert page.locator("select[name=kind] option[value=register]").count() == 0
    shoot(watched, "imports_town01_refused", viewport)
    watched.assert_clean()

    school = open_page(browser, workbench_site, viewport)
    page = log_in(school, workbench_site, "school", "/workbench/imports")
    assert page.locator("[data-test=nav-imports]").count() == 0
    page.wait_for_selector("h1:has-text('工作概览')")
    school.assert_clean()
