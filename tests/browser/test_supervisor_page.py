"""The supervisor page in headless Chromium (Debian's, driven by Playwright; never downloaded).

The app runs in a werkzeug server thread against a database of its own, built by the migrations
and loaded with the tiny demo county, committed (the browser is another client), and dropped
afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from server import create_app
from tests.conftest import (
    ROOT,
    TEST_CONFIG,
    TEST_PASSWORD,
    alembic_config,
    database_url,
    drop_database,
    recreate_database,
)

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = os.path.join(ROOT, "test-artifacts")

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")


@pytest.fixture(scope="module")
def demo_site():
    from alembic import command

    from server.demo import generator, loader

    name = f"notoneless_browser_{os.getpid() % 100000}"
    recreate_database(name)
    url = database_url(name)
    command.upgrade(alembic_config(url), "head")
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url, "TESTING": False})
    engine = create_engine(url)
    with Session(engine) as session:
        loader.load(session, generator.generate("tiny", seed=7), app.extensions["notoneless.vault"], TEST_PASSWORD)
        session.commit()
        supervisor = session.execute(text(
            "SELECT p.username, p.town_code FROM people p WHERE p.role = 'town_supervisor' ORDER BY p.username LIMIT 1"
        )).one()
        # A conflict as two tablets leave it: two values of one child's status, awaiting review.
        child = session.execute(text(
            "SELECT c.id, c.village_code, c.name FROM children c JOIN villages v ON v.code = c.village_code"
            " WHERE v.town_code = :town AND c.enrollment_status <> 'not_school_age' ORDER BY c.id LIMIT 1"),
            {"town": supervisor.town_code}).one()
        now = dt.datetime.now(dt.UTC).isoformat()
        session.execute(text(
            "INSERT INTO conflicts (id, record_type, record_id, village_code, field, values)"
            " VALUES (:id, 'child', :rid, :village, 'enrollment_status', CAST(:values AS jsonb))"),
            {"id": uuid.uuid4(), "rid": child.id, "village": child.village_code,
             "values": json.dumps([{"value": "dropped_out", "device_id": None, "captured_at": now},
                                   {"value": "enrolled", "device_id": None, "captured_at": now}])})
        # the cross-match left this child suspected out of school: the filter has someone to show
        session.execute(text("UPDATE children SET enrollment_status = 'suspected_out_of_school' WHERE id = :id"),
                        {"id": child.id})
        session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "username": supervisor.username,
           "child": child, "engine": engine}
    server.shutdown()
    engine.dispose()
    app.extensions["notoneless.db"].engine.dispose()
    drop_database(name)


def test_a_supervisor_logs_in_filters_opens_a_household_and_resolves_a_conflict(demo_site, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{demo_site['url']}/supervisor/")
    page.fill("#username", demo_site["username"])
    page.fill("#password", "wrong password")
    page.click("#login-button")
    page.wait_for_selector("#login-error:has-text('用户名或密码错误')")
    page.fill("#password", TEST_PASSWORD)
    page.click("#login-button")
    page.wait_for_selector("body[data-ready='1']", timeout=15000)
    assert not page.is_visible("#login-form")

    # markers of the supervisor's town, drawn over the village choropleth
    markers = page.locator("path.household-marker")
    total = markers.count()
    assert total > 0
    assert page.locator("#marker-count").get_attribute("data-count") == str(total)
    assert page.locator("path.leaflet-interactive:not(.household-marker)").count() > 0  # village polygons

    # filter: only the suspected out-of-school households remain
    page.select_option("#filter-priority", "out_of_school")
    page.wait_for_selector("#marker-count[data-query='priority=out_of_school']")
    filtered = markers.count()
    assert 0 < filtered <= total
    assert page.locator("path.household-marker:not(.priority-out_of_school)").count() == 0

    # a click on a household shows its children, ID numbers masked
    # (dispatched on the marker itself: markers of one hamlet overlap, and a click at the
    # first one's centre can land on its neighbour)
    markers.first.dispatch_event("click")
    page.wait_for_selector("#household-card tr.child")
    for id_number in page.locator("#household-card td.id-number").all_inner_texts():
        assert "*" in id_number or id_number == ""

    # progress per village
    page.click("button[data-tab='progress']")
    assert page.locator("#progress-table tr").count() > 1

    # the conflict queue: resolve the conflict by taking one of its values
    page.click("button[data-tab='conflicts']")
    page.wait_for_selector(".conflict button.resolve")
    page.locator(".conflict").first.locator("button.resolve", has_text="辍学").click()
    page.wait_for_selector("#conflict-list:has-text('没有待审冲突')")
    with demo_site["engine"].connect() as conn:
        status, value = conn.execute(text(
            "SELECT c.status, ch.enrollment_status FROM conflicts c JOIN children ch ON ch.id = c.record_id"
            " WHERE c.record_id = :id"), {"id": demo_site["child"].id}).one()
    assert (status, value) == ("resolved", "dropped_out")

    page.click("button[data-tab='map']")
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "supervisor_page.png"), full_page=True)
    assert errors == []


def test_the_page_and_leaflet_are_served_by_the_app(demo_site, browser):
    page = browser.new_page()
    for path in ("/supervisor/", "/supervisor/app.js", "/supervisor/leaflet/leaflet.js", "/supervisor/config.js"):
        response = page.request.get(demo_site["url"] + path)
        assert response.status == 200, path
    assert "BASEMAP" not in page.request.get(demo_site["url"] + "/supervisor/config.js").text()


def test_the_page_shifts_points_to_gcj02_like_the_server_function(demo_site, browser):
    from server.maps.routing import wgs84_to_gcj02

    page = browser.new_page()
    page.goto(f"{demo_site['url']}/supervisor/")
    identity = page.evaluate("(() => { const p = toDisplay(120.46, 32.53); return [p.lng, p.lat]; })()")
    assert identity == [120.46, 32.53]  # no GCJ-02 basemap configured: WGS84 as stored
    shifted = page.evaluate("(() => { CONFIG.gcj02 = true; const p = toDisplay(120.46, 32.53); return [p.lng, p.lat]; })()")
    assert shifted == pytest.approx(list(wgs84_to_gcj02(120.46, 32.53)), abs=1e-9)


def _watch_policy(page) -> list[str]:
    """Collect what the Content-Security-Policy blocked on this page."""
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => console.error("
                         "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI))")
    return violations


def test_the_pages_work_under_a_strict_content_security_policy(demo_site, browser):
    """No inline script or style is needed by the supervisor page, the cases page or the API docs."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    violations = _watch_policy(page)
    response = page.goto(f"{demo_site['url']}/supervisor/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    page.fill("#username", demo_site["username"])
    page.fill("#password", TEST_PASSWORD)
    page.click("#login-button")
    page.wait_for_selector("body[data-ready='1']", timeout=15000)
    assert page.locator("path.household-marker").count() > 0

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    violations += _watch_policy(page)
    page.goto(f"{demo_site['url']}/cases/")
    page.fill("#login input[name=username]", demo_site["username"])
    page.fill("#login input[name=password]", TEST_PASSWORD)
    page.click("#login button")
    page.wait_for_selector("#rates .bar span", timeout=15000)
    # the rate bars are drawn through the DOM, since style attributes are refused
    assert page.locator("#rates .bar span").first.evaluate("e => e.style.width").endswith("%")
    assert page.locator("#cases tr").count() >= 2
    # For a person to look at: the cases page under the policy, at desktop and tablet size.
    for width, height in ((1366, 768), (800, 1280)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=os.path.join(ARTIFACTS, f"cases_page_{width}x{height}.png"), full_page=True)

    page = browser.new_page()
    violations += _watch_policy(page)
    page.goto(f"{demo_site['url']}/api/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15000)
    assert violations == []
