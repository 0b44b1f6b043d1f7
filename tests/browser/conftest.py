"""Fixtures of the browser tests: one Chromium for the whole run (Playwright's sync API runs one
at a time; a module of its own would collide with the next), and the workbench's demo site."""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from server import create_app
from tests.browser.workbench import CHROMIUM, CHROMIUM_ARGS, DIST, TODAY, VIEWPORTS
from tests.conftest import (
    TEST_CONFIG,
    TEST_PASSWORD,
    alembic_config,
    database_url,
    drop_database,
    recreate_database,
)


@pytest.fixture(scope="session")
def workbench_site():
    """The app on the tiny demo county after its field week, served on a free port."""
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
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(params=sorted(VIEWPORTS))
def viewport(request):
    """Run the test at both sizes: 'desktop' (1366x768) and 'tablet' (800x1280)."""
    return request.param
