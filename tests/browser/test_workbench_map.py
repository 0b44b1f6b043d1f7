"""The workbench's map in Chromium: households at their surveyed GPS points (not stacked on the
village centres), the households without one listed beside the map, a legend, village labels
and town borders; a child found by name or by a full ID number opens its household card with
the numbers masked; the city sees aggregates until it zooms in; nothing is fetched from
outside the server (no basemap is configured in the tests)."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import text

from server.people.protection import child_subject
from tests.browser.workbench import *  # noqa: F401,F403
from tests.browser.workbench import log_in, open_page, shoot

expect = pytest.importorskip("playwright.sync_api").expect

TOWN = "320685001000"
MASKED = re.compile(r"^\d{6}\*{12}$")


def _town_households(site):
    with site["engine"].connect() as conn:
        return conn.execute(text(
            "SELECT h.id, h.location IS NOT NULL AND NOT h.location_approximate AS gps, ST_AsText(h.location) AS at"
            " FROM households h JOIN villages v ON v.code = h.village_code WHERE v.town_code = :t"), {"t": TOWN}).all()


def _open_map(watched, site, role):
    page = log_in(watched, site, role, "/workbench/map")
    page.wait_for_selector("[data-test=map].leaflet-container")
    return page


def test_a_town_supervisor_sees_households_at_their_gps_points_and_the_rest_listed(workbench_site, browser, viewport):
    rows = _town_households(workbench_site)
    with_gps = [r for r in rows if r.gps]
    without = [r for r in rows if not r.gps]
    assert with_gps and without, "the field week leaves both kinds in town 01"
    with workbench_site["engine"].connect() as conn:
        villages = conn.execute(text("SELECT count(*) FROM villages WHERE town_code = :t"), {"t": TOWN}).scalar()

    watched = open_page(browser, workbench_site, viewport)
    page = _open_map(watched, workbench_site, "town_supervisor")
    page.wait_for_selector("[data-test=marker-count]")
    expect(page.locator("path.household-marker")).to_have_count(len(with_gps), timeout=15000)
    # one marker per surveyed point, drawn where it is: as many distinct positions as points,
    # far more than the town's village centres
    shapes = page.eval_on_selector_all("path.household-marker", "els => els.map(e => e.getAttribute('d'))")
    assert len(set(shapes)) == len({r.at for r in with_gps})
    assert len(set(shapes)) > villages
    assert page.get_attribute("[data-test=marker-count]", "data-count") == str(len(with_gps))

    listed = page.locator("[data-test=without-gps] .without-gps-row")
    listed.first.wait_for()
    assert listed.count() == len(without)
    assert f"（{len(without)}）" in page.inner_text("[data-test=without-gps] h2")

    legend = page.inner_text("[data-test=legend]")
    for word in ("疑似失学辍学", "重点群体", "未走访", "区镇界", "村（社区）界"):
        assert word in legend
    assert page.locator(".village-label").count() == villages
    assert page.locator("path.town-border").count() >= 1
    assert page.locator("[data-test=aggregates]").count() == 0  # a town sees its households, not sums

    # a household without a GPS point opens from the list
    listed.first.click()
    page.wait_for_selector("[data-test=household-card]:has-text('尚无 GPS 点')")
    # and one on the map from its marker
    page.locator("path.household-marker").first.click(force=True)
    page.wait_for_selector("[data-test=household-card] button.link:has-text('GPS 点')")
    shoot(watched, "map_town01", viewport)
    watched.assert_clean()


def _child_with_case(site):
    """A child of town 01 with a case (the field week opens some), its name and its ID number."""
    vault = site["app"].extensions["notoneless.vault"]
    with site["engine"].connect() as conn:
        row = conn.execute(text(
            "SELECT c.id, c.name, c.id_number_cipher, k.id AS case_id FROM children c"
            " JOIN villages v ON v.code = c.village_code JOIN cases k ON k.child_id = c.id"
            " WHERE v.town_code = :t AND c.id_number_cipher IS NOT NULL ORDER BY k.id LIMIT 1"), {"t": TOWN}).first()
    assert row is not None, "the field week opens cases in town 01"
    return row, vault.decrypt(row.id_number_cipher, child_subject(str(row.id)))


def test_a_child_is_found_by_name_and_by_a_full_id_number(workbench_site, browser, viewport):
    child, number = _child_with_case(workbench_site)
    watched = open_page(browser, workbench_site, viewport)
    page = _open_map(watched, workbench_site, "town_supervisor")

    page.fill("[data-test=map-search] input[name=q]", child.name)
    page.click("[data-test=map-search] button[type=submit]")
    page.locator("[data-test=search-result]", has_text=child.name).first.click()
    card = page.locator("[data-test=household-card]")
    card.locator(f".child[data-child='{child.id}']").wait_for()
    assert child.name in card.inner_text()
    numbers = [n.strip() for n in card.locator(".id-number").all_inner_texts()]
    assert numbers and all(MASKED.match(n) or n == "—" for n in numbers), numbers
    link = card.locator(f".child[data-child='{child.id}'] [data-test=case-link]")
    assert link.get_attribute("href") == f"/workbench/cases/{child.case_id}"
    shoot(watched, "map_search_name", viewport)

    page.click("[data-test=household-card] button:has-text('关闭')")
    page.fill("[data-test=map-search] input[name=q]", number)
    with page.expect_request(lambda r: r.url.endswith("/api/v1/maps/search")) as sent:
        page.click("[data-test=map-search] button[type=submit]")
    assert number not in sent.value.url  # the number goes in the body, never in a URL
    assert json.loads(sent.value.post_data)["q"] == number
    # one child has this number: its card opens at once, the number masked
    row = page.locator(f"[data-test=household-card] .child[data-child='{child.id}']")
    row.wait_for()
    assert MASKED.match(row.locator(".id-number").inner_text().strip())
    assert number not in page.content()
    assert page.locator("[data-test=search-result]").count() == 1

    # a number that is no one's, and a number that is too short
    page.fill("[data-test=map-search] input[name=q]", number[:17] + ("1" if number[17] != "1" else "2"))
    page.click("[data-test=map-search] button[type=submit]")
    page.wait_for_selector("[data-test=search-results]:has-text('没有这个身份证号')")
    page.fill("[data-test=map-search] input[name=q]", number[:10])
    page.click("[data-test=map-search] button[type=submit]")
    page.wait_for_selector("[data-test=search-invalid]:has-text('完整的 18 位')")
    shoot(watched, "map_search_id", viewport)
    watched.assert_clean()


def test_the_city_sees_aggregates_then_households_as_it_zooms_in(workbench_site, browser, viewport):
    watched = open_page(browser, workbench_site, viewport)
    page = _open_map(watched, workbench_site, "city")
    page.wait_for_selector("path.aggregate-marker")
    mode = page.get_attribute("[data-test=map-mode]", "data-mode")
    assert mode in ("towns", "villages")
    assert page.locator("path.household-marker").count() == 0
    with workbench_site["engine"].connect() as conn:
        towns = conn.execute(text("SELECT count(DISTINCT town_code) FROM villages")).scalar()
        households = conn.execute(text("SELECT count(*) FROM households")).scalar()
    table = page.locator("[data-test=aggregates] tr[data-town]")
    assert table.count() == towns
    totals = [int(t.replace(",", "")) for t in table.locator("td:nth-child(2)").all_inner_texts()]
    assert sum(totals) == households
    assert "户" in page.inner_text(".aggregate-label >> nth=0")
    shoot(watched, "map_city", viewport)

    # a village's circle zooms to its households
    if mode == "towns":
        page.locator("path.aggregate-towns").first.click(force=True)
        page.wait_for_selector("[data-test=map-mode][data-mode=villages]")
    page.locator("path.aggregate-villages").first.click(force=True)
    page.wait_for_selector("[data-test=map-mode][data-mode=households]")
    page.wait_for_selector("path.household-marker")
    assert page.locator("path.aggregate-marker").count() == 0
    shoot(watched, "map_city_zoomed", viewport)
    watched.assert_clean()


def test_a_cut_listing_says_so_on_the_page(workbench_site, browser):
    """The API says when `limit` cut the households; the page tells the person, never silently."""
    watched = open_page(browser, workbench_site)
    page = watched.page

    def cut(route):
        answer = route.fetch(url=re.sub(r"limit=\d+", "limit=3", route.request.url))
        body = answer.json()
        assert body["truncated"] is True and len(body["features"]) == 3
        route.fulfill(response=answer, body=json.dumps(body))

    page.route(re.compile(r".*/api/v1/maps/households\?.*"), cut)
    _open_map(watched, workbench_site, "town_supervisor")
    page.wait_for_selector("[data-test=truncated]:has-text('只画出了前 3 户')")
    assert page.locator("path.household-marker").count() == 3
    watched.assert_clean()


def test_the_map_is_in_the_menus_of_city_towns_and_team_leaders_only(workbench_site, browser):
    for role, has in (("team_leader", True), ("school", False)):
        watched = open_page(browser, workbench_site)
        page = log_in(watched, workbench_site, role)
        assert (page.locator(".nav-item", has_text="地图").count() == 1) is has
        if has:
            page.click(".nav-item:has-text('地图')")
            page.wait_for_selector("path.household-marker")
        watched.assert_clean()
        page.context.close()
