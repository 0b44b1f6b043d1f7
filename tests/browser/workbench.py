"""What every workbench test needs (its fixtures are in conftest.py): the app in a werkzeug thread on a database of its own (the
tiny demo county after its field week: surveyed households with GPS points, cases, visits,
conflicts and duplicate pairs in town 01), Debian's Chromium, a login per role, a watch on
requests that leave the server, and screenshots at the two sizes the workbench is made for.

Import the fixtures in a test module with `from tests.browser.workbench import *  # noqa`.
"""

from __future__ import annotations

import datetime as dt
import os
from urllib.parse import urlsplit

import pytest

from tests.conftest import (
    ROOT,
    TEST_PASSWORD,
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

# The fixtures (workbench_site, browser, viewport) are in tests/browser/conftest.py: defined once,
# so the whole run shares one Chromium (Playwright's sync API allows one at a time) and one site.
__all__ = ["VIEWPORTS", "open_page", "log_in", "shoot", "TEST_PASSWORD", "pytestmark"]


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
        # what the strict Content-Security-Policy blocked (an inline style or script, another origin)
        self.blocked: list[str] = []
        page.add_init_script("document.addEventListener('securitypolicyviolation', e => console.error("
                             "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI))")
        page.on("console", lambda m: self.blocked.append(m.text) if "Content Security Policy" in m.text else None)

    def assert_clean(self):
        assert self.outside == [], f"requests outside the server: {self.outside}"
        assert self.errors == [], f"script errors: {self.errors}"
        assert self.blocked == [], f"blocked by the Content-Security-Policy: {self.blocked}"


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
