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


def _code(client, area, make_person, login):
    surveyor = make_person("surveyor", villages=[area["a"]])
    supervisor = login(make_person("city"))
    return client.post("/api/v1/devices/enrollment-codes", headers=supervisor,
                       json={"surveyor_id": surveyor.id}).json["enrollment_code"]


def test_a_device_token_expires_unless_renewed(client, session, forms, area, make_person, login, app):
    import datetime as dt

    from sqlalchemy import text

    code = _code(client, area, make_person, login)
    enrolled = client.post("/api/v1/devices/enroll", json={"enrollment_code": code, "device_name": "平板"}).json
    expires = dt.datetime.fromisoformat(enrolled["expires_at"])
    days = (expires - dt.datetime.now(dt.UTC)).total_seconds() / 86400
    assert app.config["DEVICE_TOKEN_DAYS"] - 1 < days <= app.config["DEVICE_TOKEN_DAYS"]
    old = {"Authorization": f"Bearer {enrolled['token']}"}
    assert client.get("/api/v1/sync/manifest", headers=old).json["device"]["token_expires_at"]

    renewed = client.post("/api/v1/devices/token", headers=old)
    assert renewed.status_code == 200 and renewed.json["token"] != enrolled["token"]
    assert renewed.json["device_id"] == enrolled["device_id"]
    new = {"Authorization": f"Bearer {renewed.json['token']}"}
    assert client.get("/api/v1/sync/manifest", headers=new).status_code == 200
    # The old token works a while more (an answer lost on a weak network) …
    assert client.get("/api/v1/sync/manifest", headers=old).status_code == 200
    session.execute(text("UPDATE devices SET previous_token_expires_at = now() - interval '1 second'"
                         " WHERE id = :id"), {"id": enrolled["device_id"]})
    # … then not at all.
    gone = client.get("/api/v1/sync/manifest", headers=old)
    assert gone.status_code == 401 and gone.json["code"] == "auth.invalid_token"

    # A token left unused past its lifetime is dead, renewal included.
    session.execute(text("UPDATE devices SET token_expires_at = now() - interval '1 second' WHERE id = :id"),
                    {"id": enrolled["device_id"]})
    for method, path in (("GET", "/api/v1/sync/manifest"), ("POST", "/api/v1/devices/token"),
                         ("PUT", "/api/v1/attachments/" + "0" * 64)):
        expired = client.open(path, method=method, headers=new)
        assert expired.status_code == 401 and expired.json["code"] == "auth.device_token_expired", path


def test_the_reference_client_renews_its_token_in_the_background(client, forms, area, make_person, login,
                                                                  tmp_path):
    import datetime as dt

    from mobile_contract.client.flask_transport import FlaskTransport
    from mobile_contract.client.tablet import TabletClient

    code = _code(client, area, make_person, login)
    now = [dt.datetime.now(dt.UTC)]
    tablet = TabletClient(tmp_path / "tablet.db", FlaskTransport(client), clock=lambda: now[0])
    tablet.enroll(code, "王丽的平板")
    first = tablet.store.get("token")
    tablet.sync()
    assert tablet.store.get("token") == first  # early in its life: no renewal
    now[0] += dt.timedelta(days=16)  # past half of the 30 days
    tablet.sync()
    assert tablet.store.get("token") != first
    later = dt.datetime.fromisoformat(tablet.store.get("token_expires_at"))
    assert later > dt.datetime.now(dt.UTC) + dt.timedelta(days=29)
    assert tablet.sync() is not None  # the new token works
