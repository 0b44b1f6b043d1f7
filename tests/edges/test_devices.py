"""Tablet credentials: the enrollment code never in a URL (issue 13 item 6)."""

from __future__ import annotations

import base64
import json


def test_the_qr_image_comes_with_the_code_and_no_url_carries_it(client, area, make_person, login):
    surveyor = make_person("surveyor", villages=[area["a"]])
    supervisor = login(make_person("town_supervisor", town=area["town"]))
    response = client.post("/api/v1/devices/enrollment-codes", headers=supervisor, json={"surveyor_id": surveyor.id})
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    body = response.json
    png = base64.b64decode(body["qr_png_base64"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # Nothing in the answer is a URL to fetch the code by; the old one is gone.
    assert not any(isinstance(v, str) and body["enrollment_code"] in v for k, v in body.items() if k != "enrollment_code")
    old = client.get(f"/api/v1/devices/enrollment-codes/{body['id']}/qr.png",
                     query_string={"code": body["enrollment_code"]}, headers=supervisor)
    assert old.status_code == 404
    spec = json.dumps(client.get("/api/openapi.json").json["paths"])
    assert "qr.png" not in spec
