"""Hostile attachments (issue 13 item 4): only photos and PDFs, judged by their bytes, served
as downloads, uploaded by tablets and staff, and a hash alone grants no file."""

from __future__ import annotations

import hashlib

import pytest

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"JFIF certificate" * 8
PDF = b"%PDF-1.7\n" + b"receipt " * 8
HTML = b"<!doctype html><script>fetch('/api/v1/me').then(r => r.text()).then(alert)</script>"


def _put(client, headers, body, content_type="image/png"):
    return client.put(f"/api/v1/attachments/{hashlib.sha256(body).hexdigest()}", data=body, headers=headers,
                      content_type=content_type)


@pytest.fixture
def files_dir(app, tmp_path):
    before = app.config["ATTACHMENTS_DIR"]
    app.config["ATTACHMENTS_DIR"] = str(tmp_path)
    yield tmp_path
    app.config["ATTACHMENTS_DIR"] = before


@pytest.mark.parametrize("body", [HTML, b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
                                  b"MZ\x90\x00 an executable", b"just text"])
def test_only_images_and_pdf_by_their_bytes(client, forms, area, enroll, files_dir, body):
    tablet = enroll([area["a"]])
    # The Content-Type a client claims counts for nothing.
    refused = _put(client, tablet.headers, body, content_type="image/jpeg")
    assert refused.status_code == 415 and refused.json["code"] == "attachment.unsupported_type"
    assert not any(files_dir.rglob("*"))
    for good in (PNG, JPEG, PDF):
        assert _put(client, tablet.headers, good, content_type="text/html").status_code == 201


def test_a_file_is_served_as_a_download_never_inline(client, forms, area, enroll, files_dir, make_person, login):
    tablet = enroll([area["a"]])
    household = area["households"][area["a"].code][0]
    digest = hashlib.sha256(JPEG).hexdigest()
    assert _put(client, tablet.headers, JPEG, content_type="text/html").status_code == 201
    receipt, = tablet.push(tablet.submission("household", household.id, {"notes": "证明"}, base_version=1,
                                             attachments=[f"sha256:{digest}"]))
    assert receipt["missing_attachments"] == []
    response = client.get(f"/api/v1/attachments/{digest}", headers=login(make_person("city")))
    assert response.status_code == 200 and response.data == JPEG
    assert response.mimetype == "image/jpeg"  # what the bytes are, not what the uploader said
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_only_tablets_and_staff_upload(client, make_person, make_village, login, files_dir):
    """A surveyor's password login has no file to give (the authz matrix checks every role)."""
    person = make_person("surveyor", villages=[make_village()])
    response = _put(client, login(person), PNG)
    assert response.status_code == 403 and response.json["code"] == "auth.forbidden"
    assert _put(client, login(make_person("city")), PNG).status_code == 201


def test_naming_another_towns_hash_does_not_make_its_file_readable(
        client, forms, area, enroll, files_dir, make_person, login):
    """Town C's tablet uploads a certificate; a town-A tablet that learnt the hash names it in a
    submission: the file stays missing for that submission and unreadable to town A's staff."""
    theirs = enroll([area["c"]])
    certificate = JPEG + "城南医院诊断证明".encode()
    digest = hashlib.sha256(certificate).hexdigest()
    assert _put(client, theirs.headers, certificate).status_code == 201
    ours = enroll([area["a"]])
    household = area["households"][area["a"].code][0]
    receipt, = ours.push(ours.submission("household", household.id, {"notes": "借用"}, base_version=1,
                                         attachments=[f"sha256:{digest}"]))
    assert receipt["missing_attachments"] == [f"sha256:{digest}"]
    town_a = login(make_person("town_supervisor", town=area["town"]))
    assert client.get(f"/api/v1/attachments/{digest}", headers=town_a).status_code == 404
    # The bytes themselves prove possession: once our tablet uploads them, they count for us.
    assert _put(client, ours.headers, certificate).status_code == 200
    receipt, = ours.push(ours.submission("household", household.id, {"notes": "自己拍的"}, base_version=2,
                                         attachments=[f"sha256:{digest}"]))
    assert receipt["missing_attachments"] == []
    assert client.get(f"/api/v1/attachments/{digest}", headers=town_a).status_code == 200


def test_naming_another_towns_hash_as_case_evidence_does_not_make_it_readable(
        client, session, area, files_dir, make_person, make_child, login):
    """A town supervisor who learnt town C's certificate hash records it as a child's photo in
    their own town: still not theirs to read. Their own upload is."""
    other_town = login(make_person("town_supervisor", town=session.get(type(area["town"]), area["c"].town_code)))
    certificate = JPEG + "外镇诊断证明".encode()
    digest = hashlib.sha256(certificate).hexdigest()
    assert _put(client, other_town, certificate).status_code == 201
    child = make_child(area["households"][area["a"].code][0], certificate_photo=f"sha256:{digest}")
    ours = login(make_person("town_supervisor", town=area["town"]))
    assert client.get(f"/api/v1/attachments/{digest}", headers=ours).status_code == 404
    own = JPEG + "本镇诊断证明".encode()
    own_digest = hashlib.sha256(own).hexdigest()
    assert _put(client, ours, own).status_code == 201
    child.certificate_photo = f"sha256:{own_digest}"
    session.flush()
    assert client.get(f"/api/v1/attachments/{own_digest}", headers=ours).status_code == 200
