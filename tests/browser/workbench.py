"""What every workbench test needs: the app in a werkzeug thread on a database of its own (the
tiny demo county after its field week: surveyed households with GPS points, cases, visits,
conflicts and duplicate pairs in town 01), Debian's Chromium, a login per role, a watch on
requests that leave the server, and screenshots at the two sizes the workbench is made for.

Import the fixtures in a test module with `from tests.browser.workbench import *  # noqa`.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine
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
DIST = os.path.join(ROOT, "server", "workbench", "dist", "index.html")
# an office monitor, and a tablet held upright
VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "tablet": {"width": 800, "height": 1280}}
TODAY = dt.date(2026, 5, 28)

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]

__all__ = ["workbench_site", "browser", "VIEWPORTS", "open_page", "log_in", "shoot", "TEST_PASSWORD",
           "pytestmark", "viewport"]


# Each test module that star-imports these fixtures gets its own session-scoped instance of
# them (pytest registers a fixture per module that names it): two modules in one run would start
# Playwright twice (refused: "Sync API inside the asyncio loop") and recreate the same database
# under the first one's server. So the instances share one site and one browser, kept here, and
# the last one to finish closes them.
_shared: dict = {}


def _shared_resource(name: str, start):
    entry = _shared.get(name)
    if entry is None:
        generator = start()
        entry = _shared[name] = {"generator": generator, "value": next(generator), "users": 0}
    entry["users"] += 1
    try:
        yield entry["value"]
    finally:
        entry["users"] -= 1
        if entry["users"] == 0:
            del _shared[name]
            next(entry["generator"], None)


@pytest.fixture(scope="session")
def workbench_site():
    """The app on the tiny demo county after its field week, served on a free port."""
    yield from _shared_resource("site", _start_site)


def _start_site():
    if not os.path.exists(DIST):
        pytest.fail("the workbench is not built: run scripts/setup.sh (npx vite build)")
    from alembic import command

    from server.demo import field_week, generator, loader
    from server.forms import service as forms_service

    name = f"notoneless_workbench_{os.getpid() % 100000}"
    recreate_database(name)
    url = database_url(name)
    command.upgrade(alembic_config(url), "head")
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url, "TESTING": False})
    engine = create_engine(url)
    county = generator.generate("tiny", seed=7)
    with app.app_context(), Session(engine) as session:
        forms_service.publish_builtin(session)
        vault = app.extensions["notoneless.vault"]
        loader.load(session, county, vault, TEST_PASSWORD)
        played = field_week.play(session, county, vault, TODAY)
        session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "engine": engine, "county": county,
           "played": played, "app": app, "town": "320685001000", "users": {
               "city": "city", "town_supervisor": "town01", "team_leader": "t01g01.lead",
               "school": next(p.username for p in county.people if p.role == "school")}}
    server.shutdown()
    engine.dispose()
    app.extensions["notoneless.db"].engine.dispose()
    drop_database(name)


@pytest.fixture(scope="session")
def browser():
    yield from _shared_resource("browser", _start_browser)


def _start_browser():
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(params=sorted(VIEWPORTS))
def viewport(request):
    """Run the test at both sizes: 'desktop' (1366x768) and 'tablet' (800x1280)."""
    return request.param


class Watched:
    """A page with what went wrong on it: script errors, and requests to anywhere but the server."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.errors: list[str] = []
        self.outside: list[str] = []
        origin = urlsplit(base_url)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

        def check(request):
            parts = urlsplit(request.url)
            if parts.scheme in ("data", "blob"):
                return
            if (parts.scheme, parts.hostname, parts.port) != (origin.scheme, origin.hostname, origin.port):
                self.outside.append(request.url)

        page.on("request", check)

    def assert_clean(self):
        assert self.outside == [], f"requests outside the server: {self.outside}"
        assert self.errors == [], f"script errors: {self.errors}"


def open_page(browser, site, size: str = "desktop"):
    """A new page at one of VIEWPORTS, watched; `.page` is the Playwright page."""
    context = browser.new_context(viewport=VIEWPORTS[size], locale="zh-CN", timezone_id="UTC")
    return Watched(context.new_page(), site["url"])


def log_in(watched, site, role: str, path: str = "/workbench/"):
    """Log in as the demo person of `role` through the login form; land on `path`."""
    page = watched.page
    page.goto(site["url"] + path)
    page.fill("[data-test=login-form] input[name=username]", site["users"][role])
    page.fill("[data-test=login-form] input[name=password]", TEST_PASSWORD)
    page.click("[data-test=login-form] button[type=submit]")
    page.wait_for_selector("[data-test=who]", timeout=15000)
    return page


def shoot(watched, name: str, size: str):
    """A full-page screenshot in test-artifacts/, to look at."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, f"workbench_{name}_{size}.png")
    watched.page.screenshot(path=path, full_page=True)
    return path
