"""The workbench's shell in Chromium: one login for every role, its menu, logout, a password
change, Chinese errors, Beijing dates, and no request to anywhere but the server."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.browser.workbench import *  # noqa: F401,F403
from tests.browser.workbench import TEST_PASSWORD, log_in, open_page, shoot


def test_a_wrong_login_is_told_in_chinese_and_a_right_one_replaces_the_form(workbench_site, browser, viewport):
    watched = open_page(browser, workbench_site, viewport)
    page = watched.page
    page.goto(workbench_site["url"] + "/workbench/")
    page.fill("[data-test=login-form] input[name=username]", "town01")
    page.fill("[data-test=login-form] input[name=password]", "not the password")
    page.click("[data-test=login-form] button[type=submit]")
    page.wait_for_selector("[role=alert]:has-text('用户名或密码不正确')")
    page.fill("[data-test=login-form] input[name=password]", TEST_PASSWORD)
    page.click("[data-test=login-form] button[type=submit]")
    page.wait_for_selector("[data-test=who]:has-text('海安街道督导')")
    assert page.locator("[data-test=login-form]").count() == 0
    page.wait_for_selector("[data-test=rate-enrollment_rate] .card-value")
    assert "%" in page.inner_text("[data-test=rate-enrollment_rate] .card-value")
    assert "年" in page.inner_text(".hint") and "月" in page.inner_text(".hint")
    shoot(watched, "home_town01", viewport)
    watched.assert_clean()


@pytest.mark.parametrize("role", ["city", "town_supervisor", "team_leader", "school"])
def test_each_role_logs_in_once_and_out(workbench_site, browser, role):
    watched = open_page(browser, workbench_site)
    page = log_in(watched, workbench_site, role)
    assert page.locator(".nav-item").count() >= 1
    # a second tab of the same browser needs no second login
    second = page.context.new_page()
    second.goto(workbench_site["url"] + "/workbench/")
    second.wait_for_selector("[data-test=who]")
    second.close()
    page.click("[data-test=logout]")
    page.wait_for_selector("[data-test=login-form]")
    # the token is revoked on the server, not only forgotten here
    page.goto(workbench_site["url"] + "/workbench/")
    page.wait_for_selector("[data-test=login-form]")
    watched.assert_clean()


def test_a_password_change_keeps_this_login_and_the_old_password_stops_working(workbench_site, browser, viewport):
    watched = open_page(browser, workbench_site, viewport)
    page = log_in(watched, workbench_site, "team_leader")
    page.click("text=修改密码")
    form = page.locator("[data-test=password-form]")
    inputs = form.locator("input")
    inputs.nth(0).fill(TEST_PASSWORD)
    inputs.nth(1).fill("short")
    inputs.nth(2).fill("short")
    form.locator("button[type=submit]").click()
    # the browser's own minlength check or the server's answer: either way nothing changed
    new = "新的密码-Field-2026"
    inputs.nth(0).fill("wrong current password")
    inputs.nth(1).fill(new)
    inputs.nth(2).fill(new)
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[role=alert]:has-text('当前密码不正确')")
    inputs.nth(0).fill(TEST_PASSWORD)
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[role=status]:has-text('密码已修改')")
    shoot(watched, "password", viewport)
    answer = page.request.post(workbench_site["url"] + "/api/v1/auth/login",
                               data={"username": workbench_site["users"]["team_leader"], "password": TEST_PASSWORD})
    assert answer.status == 401
    answer = page.request.post(workbench_site["url"] + "/api/v1/auth/login",
                               data={"username": workbench_site["users"]["team_leader"], "password": new})
    assert answer.status == 200
    # put it back for the other tests of this session
    with workbench_site["engine"].begin() as conn:
        from server.accounts.passwords import hash_password
        conn.execute(text("UPDATE people SET password_hash = :h WHERE username = :u"),
                     {"h": hash_password(TEST_PASSWORD), "u": workbench_site["users"]["team_leader"]})
    watched.assert_clean()


def test_an_address_of_the_workbench_is_the_page_and_asks_for_a_login_first(workbench_site, browser):
    watched = open_page(browser, workbench_site)
    page = watched.page
    response = page.goto(workbench_site["url"] + "/workbench/password")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector("[data-test=login-form]")
    page.fill("[data-test=login-form] input[name=username]", "city")
    page.fill("[data-test=login-form] input[name=password]", TEST_PASSWORD)
    page.click("[data-test=login-form] button[type=submit]")
    page.wait_for_selector("[data-test=password-form]")  # back where the address pointed
    assert page.request.get(workbench_site["url"] + "/").url.endswith("/workbench/")
    watched.assert_clean()


def test_the_api_docs_work_under_the_strict_content_security_policy(workbench_site, browser):
    watched = open_page(browser, workbench_site)
    response = watched.page.goto(workbench_site["url"] + "/api/docs")
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    watched.page.wait_for_selector(".swagger-ui .info .title", timeout=15000)
    watched.assert_clean()


def test_the_map_shifts_points_to_gcj02_like_the_server_function():
    """The workbench's display shift (gcj02.js) and the server's (routing.py) are one transform."""
    import json
    import shutil
    import subprocess

    from server.maps.routing import wgs84_to_gcj02
    from tests.conftest import ROOT

    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    points = [(120.46, 32.53), (120.3012, 32.6119), (116.39, 39.9), (2.35, 48.85)]
    script = ("import('./server/workbench/app/src/gcj02.js').then(m => console.log(JSON.stringify("
              f"{json.dumps(points)}.map(([x, y]) => [m.displayPoint(x, y, false), m.displayPoint(x, y, true)]))))")
    out = subprocess.run([node, "--input-type=module", "-e", script], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=60).stdout
    for (lon, lat), (plain, shifted) in zip(points, json.loads(out), strict=True):
        assert plain == [lat, lon]  # as stored, without a GCJ-02 basemap
        gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
        assert shifted == pytest.approx([gcj_lat, gcj_lon], abs=1e-9)
