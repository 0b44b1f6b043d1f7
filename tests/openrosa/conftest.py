"""Fixtures for XForm clients: a Collect-shaped driver of a device's OpenRosa URLs."""

from __future__ import annotations

import base64
import csv
import io
import json
import zlib
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET  # noqa: S405 - our own server's answers and XForms

import pytest

from tests.sync_api.conftest import area, forms  # noqa: F401 - shared fixtures


class Collect:
    """What ODK Collect does with a server URL: form list, forms, media, submissions."""

    def __init__(self, client, body: dict):
        self.client, self.body = client, body
        self.device_id = body["device_id"]
        self.base = urlsplit(body["server_url"]).path

    def get(self, url: str, **kwargs):
        return self.client.get(urlsplit(url).path if url.startswith("http") else url, **kwargs)

    def form_list(self) -> dict[str, dict]:
        response = self.get(f"{self.base}/formList")
        assert response.status_code == 200, response.data
        root = ET.fromstring(response.data)
        ns = "{http://openrosa.org/xforms/xformsList}"
        return {x.findtext(f"{ns}formID"): {c.tag.removeprefix(ns): c.text for c in x} for x in root}

    def xform(self, form_id: str) -> str:
        return self.get(self.form_list()[form_id]["downloadUrl"]).data.decode()

    def media(self, form_id: str) -> dict[str, dict]:
        response = self.get(self.form_list()[form_id]["manifestUrl"])
        assert response.status_code == 200, response.data
        ns = "{http://openrosa.org/xforms/xformsManifest}"
        return {m.findtext(f"{ns}filename"): {"type": m.get("type"), **{c.tag.removeprefix(ns): c.text for c in m}}
                for m in ET.fromstring(response.data)}

    def entity_list(self, name: str) -> list[dict]:
        response = self.get(f"{self.base}/entity-lists/{name}.csv")
        assert response.status_code == 200, response.data
        return list(csv.DictReader(io.StringIO(response.data.decode())))

    def entity(self, name: str, record_id) -> dict:
        return next(row for row in self.entity_list(name) if row["name"] == str(record_id))

    def submit(self, xml: bytes, files: dict[str, bytes] | None = None, incomplete: bool = False):
        data = {"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")}
        for name, body in (files or {}).items():
            data[name] = (io.BytesIO(body), name, "image/png")
        if incomplete:
            data["*isIncomplete*"] = "yes"
        return self.client.post(f"{self.base}/submission", data=data, content_type="multipart/form-data")


def message(response) -> str:
    return ET.fromstring(response.data).findtext("{http://openrosa.org/http/response}message")


@pytest.fixture
def collect(client, make_person, login, forms):  # noqa: F811 - the shared forms fixture
    """Enroll an ODK Collect device for a new surveyor whose team covers `villages`."""

    def do(villages, line="government") -> Collect:
        surveyor = make_person("surveyor", villages=villages, line=line)
        response = client.post("/api/v1/devices/collect", headers=login(make_person("city")),
                               json={"surveyor_id": surveyor.id, "device_name": "ODK Collect"})
        assert response.status_code == 201, response.json
        device = Collect(client, response.json)
        device.surveyor = surveyor
        device.settings = json.loads(zlib.decompress(base64.b64decode(response.json["settings"])))
        return device

    return do
