"""A real third-party OpenRosa client, Enketo, renders our XForms in headless Chromium.

enketo-transformer (its web build, in the page) turns the XForm pyxform makes of a built-in
XLSForm into Enketo's HTML form and model, enketo-core renders and runs it, the test fills it in
as a surveyor would and takes the instance XML Enketo produces. Entity lists
(jr://file-csv/*.csv) reach Enketo as the XML instances Enketo Express makes of the CSVs.
Enketo's files are bundled from node_modules (tests/browser/enketo/build.mjs) and served to the
page by the test; the page may fetch nothing else.

Offline, the built-in household survey is rendered from an entity list the test writes; end to
end, a Collect-style device is enrolled through the API, its formList, XForm, manifest and entity
lists are downloaded (hashes checked), Enketo updates a household and the page POSTs the instance
to the device's submission URL: 201, and the household's row carries the new phone.
"""

from __future__ import annotations

import hashlib
import os
import threading
from xml.etree import ElementTree as ET

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

import survey_forms
from server import create_app
from server.demo import generator, loader
from server.forms import service as forms_service
from tests.browser.enketo import (
    CHROMIUM,
    build_harness,
    csv_to_instance_xml,
    missing_packages,
    serve_harness,
)
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

ARTIFACTS = os.path.join(ROOT, "test-artifacts")
XLSFORMS = os.path.join(ROOT, "survey_forms", "xlsforms")
# Nothing answers here: the page is served by the test's routes alone.
OFFLINE_ORIGIN = "http://enketo.invalid"

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")


@pytest.fixture(scope="module")
def harness_build():
    missing = missing_packages()
    if missing:
        pytest.fail(f"npm packages missing from node_modules: {', '.join(missing)} (run scripts/setup.sh)")
    return build_harness()


@pytest.fixture
def open_harness(browser, harness_build):
    """Open the harness page at an origin; yields a function returning the page. Asserts at the
    end that the page raised nothing and asked for nothing outside that origin."""
    pages = []

    def open_(origin: str = OFFLINE_ORIGIN, viewport=(1366, 768)):
        page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.goto(serve_harness(page, origin, harness_build))
        page.wait_for_function("window.enketoHarness !== undefined")
        pages.append(page)
        return page

    yield open_
    for page in pages:
        assert page.errors == []
        assert page.refused == []
        page.close()


def render(page, xform: str, media: dict[str, str] | None = None, submission_url: str | None = None) -> dict:
    result = page.evaluate("([xform, media, url]) => enketoHarness.render(xform, media, url)",
                           [xform, media or {}, submission_url])
    assert result["loadErrors"] == []
    return result


def submit(page) -> dict:
    page.click("#submit-form")
    page.wait_for_selector("body[data-submitted='1']", state="attached")
    result = page.evaluate("enketoHarness.lastSubmit")
    assert "error" not in result, result.get("error")
    return result


def field(name: str) -> str:
    """The selector of the text input Enketo makes for a node (not the hidden input of a setvalue
    action that targets the node, which has the same name)."""
    return f"input[name='{name}']:not([type='hidden'])"


def choose(page, name: str, value: str) -> None:
    # Enketo renders a select_one as radio buttons; a surveyor taps the label.
    page.locator(f"input[type='radio'][name='{name}'][value='{value}']").check()


def pick(page, name: str, label: str) -> None:
    """A pick from an entity list (appearance autocomplete): Enketo hides the answer's input and
    puts a text box with the list's labels beside it; the surveyor types and takes a match."""
    page.locator(f"input[name='{name}'][list] + input.autocomplete").fill(label)


def pick_labels(page, name: str) -> list[str]:
    return page.eval_on_selector_all(
        f"input[name='{name}'][list] ~ datalist > option:not(.itemset-template)", "els => els.map(e => e.value)")


def screenshot(page, name: str) -> None:
    page.mouse.move(0, 0)  # no hover highlight on the last option tapped
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, name), full_page=True)


# The entity list as the manifest serves it (docs: name = entity id, label, __version, then the
# properties); a label with a comma in it, quoted.
HOUSEHOLDS_CSV = (
    "name,label,__version,head_name,phone,address,group_name,household_number,location,survey_status,"
    "vulnerable_family_types,notes\r\n"
    "9b2f6c1e-0c1d-4c55-9a39-3f1f0c2a7e01,\"王建国, 一组 3号\",4,王建国,13800000000,东风村一组,一组,3,"
    "30.5123 114.3012 0 5,not_visited,poor single_parent,\r\n"
    "5d0c8a52-6a0e-4d1c-8f7e-2b9d7e6c1f02,李秀英 二组 7号,1,李秀英,,东风村二组,二组,7,,not_visited,,\r\n"
)
FIRST = "9b2f6c1e-0c1d-4c55-9a39-3f1f0c2a7e01"


def household_survey() -> survey_forms.CompiledForm:
    return survey_forms.compile_xlsform(os.path.join(XLSFORMS, "household_survey.xlsx"))


def test_enketo_renders_the_household_survey_from_its_entity_list_and_produces_the_update(open_harness):
    compiled = household_survey()
    page = open_harness()
    result = render(page, compiled.to_xform(), {"households.csv": csv_to_instance_xml(HOUSEHOLDS_CSV)})
    assert result["external"] == [{"id": "households", "src": "jr://file-csv/households.csv", "supplied": True}]
    assert page.locator("#form-title").inner_text() == "住户摸底调查表"
    # the choices are the entity list's rows, by its label column (quoted comma and all)
    assert pick_labels(page, "/data/household_pick") == ["王建国, 一组 3号", "李秀英 二组 7号"]

    # picking a household starts the answers from its entity (the form's setvalue actions)
    pick(page, "/data/household_pick", "王建国, 一组 3号")
    assert page.input_value(field("/data/household/head_name")) == "王建国"
    assert page.input_value(field("/data/household/phone")) == "13800000000"
    assert page.locator("input[name='/data/survey_status'][value='not_visited']").is_checked()

    # Enketo evaluates our constraint (a regex()) and shows the XLSForm's own message
    page.fill(field("/data/household/phone"), "12345")
    assert submit(page)["valid"] is False
    assert page.locator(".invalid-constraint .or-constraint-msg.active", has_text="请填写11位手机号").is_visible()

    page.fill(field("/data/household/phone"), "13912345678")
    choose(page, "/data/survey_status", "visited")
    result = submit(page)
    assert result["valid"] is True
    instance = ET.fromstring(result["xml"])
    assert (instance.tag, instance.get("id"), instance.get("version")) == ("data", "household_survey",
                                                                          compiled.version)
    assert instance.findtext("household_pick") == FIRST
    assert instance.findtext("household/head_name") == "王建国"  # unchanged, from the entity
    assert instance.findtext("household/phone") == "13912345678"
    assert instance.findtext("survey_status") == "visited"
    assert instance.findtext("vulnerable_family_types") == "poor single_parent"
    entity = instance.find("meta/entity")
    assert entity.attrib == {"dataset": "households", "update": "1", "id": FIRST, "baseVersion": "4",
                             "trunkVersion": "", "branchId": ""}
    assert entity.findtext("label") == "王建国"
    instance_id = instance.findtext("meta/instanceID")
    assert instance_id == result["instanceID"] and instance_id.startswith("uuid:")

    for width, height in ((1366, 768), (800, 1280)):
        page.set_viewport_size({"width": width, "height": height})
        screenshot(page, f"enketo_household_survey_offline_{width}x{height}.png")


def test_a_missing_entity_list_is_a_load_error_enketo_reports(open_harness):
    page = open_harness()
    result = page.evaluate("(xform) => enketoHarness.render(xform, {})", household_survey().to_xform())
    assert result["loadErrors"] == ["Can't find households.csv."]


def test_the_csv_conversion_follows_enketo_express():
    xml = csv_to_instance_xml("\ufeff name , label::zh \n\n a1 ,\"x, \"\"y\"\"\"\n")
    assert xml == '<root><item><name>a1</name><label lang="zh">x, "y"</label></item></root>'
    with pytest.raises(ValueError, match="xml:id"):
        csv_to_instance_xml("name,xml:id\na,b\n")
    with pytest.raises(ValueError, match="row 2 has 3 cells"):
        csv_to_instance_xml("name,label\na,b,c\n")


# --- end to end: our OpenRosa server, Enketo as its client ----------------------------------------

OPENROSA = {"X-OpenRosa-Version": "1.0"}


@pytest.fixture(scope="module")
def openrosa_site():
    """The app in a werkzeug thread on a database of its own (migrated, the tiny demo county loaded
    and the built-in forms published, committed: the browser is another client), dropped
    afterwards."""

    name = f"notoneless_enketo_{os.getpid() % 100000}"
    recreate_database(name)
    url = database_url(name)
    command.upgrade(alembic_config(url), "head")
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url, "TESTING": False})
    engine = create_engine(url)
    with Session(engine) as session:
        loader.load(session, generator.generate("tiny", seed=7), app.extensions["notoneless.vault"], TEST_PASSWORD)
        forms_service.publish_builtin(session)  # as scripts/run.sh does
        session.commit()
        supervisor, surveyor_id = session.execute(text(
            "SELECT s.username, p.id FROM people s JOIN people p ON p.town_code = s.town_code AND p.role = 'surveyor'"
            " WHERE s.role = 'town_supervisor' ORDER BY s.username, p.username LIMIT 1")).one()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "supervisor": supervisor, "surveyor_id": surveyor_id,
           "engine": engine}
    server.shutdown()
    engine.dispose()
    app.extensions["notoneless.db"].engine.dispose()
    drop_database(name)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _each(element: ET.Element, name: str):
    """Descendants by local name: the OpenRosa documents are namespaced, their namespaces are not
    what the test is about."""
    return [e for e in element.iter() if _local(e.tag) == name]


def _text(element: ET.Element, name: str) -> str:
    found = _each(element, name)
    return (found[0].text or "") if found else ""


def _get(request, url: str, **headers) -> bytes:
    response = request.get(url, headers={**OPENROSA, **headers})
    assert response.status == 200, (url, response.status, response.text())
    assert response.headers.get("x-openrosa-version") == "1.0"
    return response.body()


def test_enketo_updates_a_household_through_our_openrosa_endpoints(open_harness, openrosa_site):
    site = openrosa_site
    page = open_harness(site["url"])
    api = page.request  # the OpenRosa client's own HTTP, beside the page (Enketo Express's server side)

    login = api.post(f"{site['url']}/api/v1/auth/login",
                     data={"username": site["supervisor"], "password": TEST_PASSWORD})
    assert login.status == 200, login.text()
    enrolled = api.post(f"{site['url']}/api/v1/devices/collect",
                        headers={"Authorization": f"Bearer {login.json()['token']}"},
                        data={"surveyor_id": site["surveyor_id"], "device_name": "Enketo（浏览器测试）"})
    assert enrolled.status == 201, enrolled.text()
    server_url = enrolled.json()["server_url"]

    forms = {_text(x, "formID"): x for x in _each(ET.fromstring(_get(api, f"{server_url}/formList")), "xform")}
    assert {"household_survey", "child_survey", "followup_visit"} <= set(forms)
    entry = forms["household_survey"]
    xform = _get(api, _text(entry, "downloadUrl"))
    assert _text(entry, "hash") == f"md5:{hashlib.md5(xform).hexdigest()}"

    media = {}
    for item in _each(ET.fromstring(_get(api, _text(entry, "manifestUrl"))), "mediaFile"):
        body = _get(api, _text(item, "downloadUrl"))
        assert _text(item, "hash") == f"md5:{hashlib.md5(body).hexdigest()}"
        media[_text(item, "filename")] = body.decode("utf-8")
    assert "households.csv" in media
    households = ET.fromstring(csv_to_instance_xml(media["households.csv"]))
    picked = households.find("item")
    household_id = picked.findtext("name")
    assert picked.findtext("phone") != "13912345678"

    render(page, xform.decode("utf-8"), {name: csv_to_instance_xml(csv_text) for name, csv_text in media.items()},
           f"{server_url}/submission")
    pick(page, "/data/household_pick", picked.findtext("label"))
    assert page.input_value(field("/data/household/head_name")) == picked.findtext("head_name")
    # only the phone changes; every other answer stays as the entity list gave it
    page.fill(field("/data/household/phone"), "13912345678")
    for width, height in ((1366, 768), (800, 1280)):
        page.set_viewport_size({"width": width, "height": height})
        screenshot(page, f"enketo_household_survey_{width}x{height}.png")

    result = submit(page)
    assert result["valid"] is True
    assert result["status"] == 201, result["response"]
    assert "submit_success" in result["response"]
    with site["engine"].connect() as conn:
        row = conn.execute(text("SELECT phone, head_name, address FROM households WHERE id = :id"),
                           {"id": household_id}).one()
    assert tuple(row) == ("13912345678", picked.findtext("head_name"), picked.findtext("address"))
    # and the device's next download of its entity list carries the new value, at a new version
    again = ET.fromstring(csv_to_instance_xml(_get(api, f"{server_url}/entity-lists/households.csv").decode()))
    after = next(item for item in again.iter("item") if item.findtext("name") == household_id)
    assert after.findtext("phone") == "13912345678"
    assert int(after.findtext("__version")) > int(picked.findtext("__version"))
