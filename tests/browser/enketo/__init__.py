"""Helpers for the Enketo browser test: build the harness, serve it to the page, and turn an
entity-list CSV into the XML instance Enketo takes.

Enketo (enketo-core + enketo-transformer, npm devDependencies) is a third-party OpenRosa client:
the test has it render our XForms in Debian's Chromium and submit what it produces. Its files are
served by the test itself through Playwright's routing (no CDN, no server of their own).
"""

from __future__ import annotations

import csv
import io
import mimetypes
import os
import re
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

from tests.conftest import ROOT

HERE = Path(__file__).resolve().parent
BUILD_SCRIPT = HERE / "build.mjs"
# Outside git (var/ is ignored) and rebuilt on each run: the bundle follows node_modules.
BUILD_DIR = Path(ROOT) / "var" / "enketo-harness"
PACKAGES = ("enketo-core", "enketo-transformer", "esbuild", "sass")
HARNESS_PATH = "/enketo-harness/"


def missing_packages() -> list[str]:
    return [name for name in PACKAGES if not (Path(ROOT) / "node_modules" / name / "package.json").exists()]


def build_harness(outdir: Path = BUILD_DIR) -> Path:
    """Bundle enketo-core + the transformer's web build and compile the theme into `outdir`."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed (scripts/setup.sh installs nodejs)")
    if outdir.exists():
        shutil.rmtree(outdir)
    done = subprocess.run([node, str(BUILD_SCRIPT), str(outdir)], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"building the Enketo harness failed:\n{done.stdout}\n{done.stderr}")
    return outdir


def serve_harness(page, origin: str, outdir: Path = BUILD_DIR) -> str:
    """Answer `origin`/enketo-harness/* from the build; every other request the page makes that
    is not to `origin` is refused and recorded (the test runs offline, and a request to the
    internet would be a CDN in disguise). Returns the harness URL; the list of refused URLs is
    page.refused."""
    refused: list[str] = []
    page.refused = refused

    def refuse(route):
        refused.append(route.request.url)
        route.abort()

    def serve(route):
        name = route.request.url.split(HARNESS_PATH, 1)[1].split("?", 1)[0] or "index.html"
        path = (outdir / name).resolve()
        if path.parent != outdir.resolve() or not path.is_file():
            route.fulfill(status=404, body="not in the harness")
            return
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        route.fulfill(status=200, body=path.read_bytes(), headers={"Content-Type": kind})

    # Playwright tries the routes last-registered first: the harness, then anything else.
    page.route(re.compile(r".*"), lambda route: route.continue_()
               if route.request.url.startswith(origin + "/") else refuse(route))
    page.route(f"{origin}{HARNESS_PATH}**", serve)
    return f"{origin}{HARNESS_PATH}"


_XML_NAME = re.compile(r"(?!xml)[A-Za-z._][A-Za-z0-9._]*")


def csv_to_instance_xml(text: str) -> str:
    """The XML instance Enketo Express makes of an external CSV (jr://file-csv/...):
    <root><item><column>value</column>...</item>...</root>, headers and values trimmed, a
    `column::lang` header giving <column lang="lang">, blank lines skipped. Like Enketo Express,
    a header that cannot be an XML element name (no namespace prefix) is refused; a row with
    another number of cells than the header is refused too (Enketo would make an element named
    "undefined" of the extra cell)."""
    text = text.lstrip("\ufeff").strip()
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows:
        raise ValueError("the CSV has no header row")
    columns = []
    for header in rows[0]:
        name, _, lang = header.strip().partition("::")
        if not _XML_NAME.fullmatch(name):
            raise ValueError(f'CSV column heading "{name}" cannot be turned into a valid XML element')
        columns.append((name, lang))
    root = ET.Element("root")
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(columns):
            raise ValueError(f"CSV row {number} has {len(row)} cells, the header {len(columns)}")
        item = ET.SubElement(root, "item")
        for (name, lang), value in zip(columns, row, strict=True):
            cell = ET.SubElement(item, name, {"lang": lang} if lang else {})
            cell.text = value.strip()
    return ET.tostring(root, encoding="unicode")


def chromium_available() -> bool:
    return os.path.exists(CHROMIUM)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
