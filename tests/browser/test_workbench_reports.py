"""统计报表 and 底数核查 in the workbench (issue 15, item 8): the rates with the town beside each
village and the misses marked, the formatted XLSX built in the background and downloaded, the
register of out-of-school children, and the campaign's promise: every child accounted for, by
town, village and team, with the children still unaccounted for listed (ID numbers masked)."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.jobs import run_jobs
from tests.browser.workbench import *  # noqa: F401,F403
from tests.browser.workbench import log_in, open_page, shoot


def _header_row(sheet, word: str) -> int:
    for row in sheet.iter_rows(min_row=1, max_row=10):
        if any(c.value == word for c in row):
            return row[0].row
    raise AssertionError(f"no header with {word!r}")


def test_the_city_reads_villages_beside_their_towns_and_downloads_the_formatted_xlsx(workbench_site, browser,
                                                                                    viewport):
    watched = open_page(browser, workbench_site, viewport)
    page = log_in(watched, workbench_site, "city", "/workbench/reports")
    page.wait_for_selector("[data-test=rates-table] [data-test=rates-row]")
    page.select_option("[data-test=rates-by]", "village")
    page.wait_for_selector("[data-test=rates-town-cell]")
    headers = page.locator("[data-test=rates-table] thead th").all_inner_texts()
    assert headers[0] == "区镇" and headers[1] == "村（社区）"
    towns = {t.name for t in workbench_site["county"].towns}
    cells = page.locator("[data-test=rates-town-cell]").all_inner_texts()
    assert cells and set(cells) <= towns and len(set(cells)) == len(towns)
    assert "%" in page.inner_text("[data-test=rates-total]")
    assert "只计个案以复学办结的儿童" in page.inner_text("section.panel")
    # the API's own figures, shown as it counts them
    token = page.evaluate("JSON.parse(localStorage.getItem('nol-workbench')).token")
    api = page.request.get(workbench_site["url"] + "/api/v1/reports/rates?by=village",
                           headers={"Authorization": f"Bearer {token}"})
    assert api.ok
    missed = sum(1 for r in api.json()["rows"] for v in r["meets_targets"].values() if v is False)
    assert page.locator("[data-test=rates-table] tbody td.missed").count() == missed

    page.click("[data-test=export-xlsx]")
    page.wait_for_selector("[data-test=export-progress]:has-text('排队')")
    with page.expect_download(timeout=30000) as info:
        run_jobs(workbench_site, "reports")
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    page.wait_for_selector("[data-test=export-progress]:has-text('已下载')")
    sheet = load_workbook(io.BytesIO(open(download.path(), "rb").read())).active
    title = sheet["A1"].value
    assert "控辍保学" in title and "统计表" in title and "分村" in title
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", sheet["A2"].value)
    header = _header_row(sheet, "入学率")
    names = [c.value for c in sheet[header]]
    assert names[0] == "区镇"
    rate = sheet.cell(header + 1, names.index("入学率") + 1)
    assert "%" in rate.number_format and (rate.value is None or 0 <= rate.value <= 1)
    assert sheet.freeze_panes == f"D{header + 1}"

    with page.expect_download(timeout=30000) as info:
        page.click("[data-test=download-register]")
    register = load_workbook(io.BytesIO(open(info.value.path(), "rb").read())).active
    assert "失学辍学登记册" in register["A1"].value
    page.wait_for_selector("[data-test=register-done]")
    shoot(watched, "reports_city", viewport)
    watched.assert_clean()


def test_a_town_supervisor_sees_its_villages_and_a_school_only_itself(workbench_site, browser, viewport):
    watched = open_page(browser, workbench_site, viewport)
    page = log_in(watched, workbench_site, "town_supervisor", "/workbench/reports")
    page.wait_for_selector("[data-test=rates-town-cell]")
    town = next(t.name for t in workbench_site["county"].towns if t.code == workbench_site["town"])
    assert set(page.locator("[data-test=rates-town-cell]").all_inner_texts()) == {town}
    shoot(watched, "reports_town01", viewport)
    watched.assert_clean()

    school = open_page(browser, workbench_site, viewport)
    page = log_in(school, workbench_site, "school", "/workbench/reports")
    page.wait_for_selector("[data-test=rates-table] [data-test=rates-row]")
    assert page.locator("[data-test=rates-row]").count() == 1
    assert page.locator("[data-test=export-xlsx]").count() == 0
    assert page.locator("[data-test=nav-accounted]").count() == 0
    school.assert_clean()


def test_the_promise_view_accounts_for_every_child_and_lists_the_rest(workbench_site, browser, viewport):
    watched = open_page(browser, workbench_site, viewport)
    page = log_in(watched, workbench_site, "town_supervisor", "/workbench/")
    page.click("[data-test=nav-accounted]") if viewport == "desktop" else page.goto(
        workbench_site["url"] + "/workbench/accounted")
    page.wait_for_selector("[data-test=accounted-villages] tbody tr")
    share = page.inner_text("[data-test=accounted-share] .card-value")
    assert share.endswith("%")
    assert "当前阶段" in page.inner_text("[data-test=accounted-phase]")
    # each village: children = surveyed + in a case + exempt + unaccounted
    for row in page.locator("[data-test=accounted-villages] tbody tr").all():
        n = [int(x.replace(",", "")) for x in row.locator("td.num").all_inner_texts()[:5]]
        assert n[0] == n[1] + n[2] + n[3] + n[4]
    assert page.locator("[data-test=accounted-teams] tbody tr").count() >= 1
    listed = page.locator("[data-test=unaccounted-row]")
    assert listed.count() >= 1
    name = listed.first.locator("td").first.inner_text()
    id_number = listed.first.locator("[data-test=unaccounted-id]").inner_text()
    village = listed.first.locator("[data-test=unaccounted-village]").inner_text()
    assert name != "—" and village != "—"
    assert re.fullmatch(r"\d{6}\*{12}", id_number), id_number
    village_names = {v.name for v in workbench_site["county"].villages if v.town_code == workbench_site["town"]}
    assert village in village_names
    shoot(watched, "accounted_town01", viewport)
    # one village's children only
    code = page.locator("[data-test=accounted-village] option").nth(1).get_attribute("value")
    page.select_option("[data-test=accounted-village]", code)
    page.wait_for_selector(f"[data-test=accounted-village-{code}]")
    expect(page.locator("[data-test=accounted-villages] tbody tr")).to_have_count(1)
    watched.assert_clean()
