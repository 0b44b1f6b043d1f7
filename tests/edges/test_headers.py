"""Security headers on every answer; no-store on the API's data (issue 13 item 5)."""

from __future__ import annotations

import pytest

from server.security_headers import basemap_source, policy


@pytest.mark.parametrize("path", ["/workbench/", "/workbench/cases/1", "/api/docs", "/api/v1/health", "/api/v1/me",
                                  "/api/openapi.json", "/no/such/page"])
def test_every_answer_carries_the_security_headers(client, path):
    response = client.get(path)
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "Strict-Transport-Security" not in headers  # plain HTTP: HSTS would mean nothing


def test_personal_data_is_never_stored_by_a_cache(client, make_person, make_child, login):
    child = make_child()
    headers = login(make_person("city"))
    for path in ("/api/v1/me", f"/api/v1/children/{child.id}", "/api/v1/children",
                 "/api/v1/maps/households", "/api/v1/maps/villages"):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
    # a refusal too
    assert client.get("/api/v1/me").headers["Cache-Control"] == "no-store"
    # A tile carries no name and keeps its private, revalidated caching.
    tile = client.get("/api/v1/tiles/villages/10/858/410.mvt", headers=headers)
    assert tile.status_code == 200 and tile.headers["Cache-Control"].startswith("private")


def test_hsts_behind_the_tls_proxy(app, client):
    direct = client.get("/api/v1/health", base_url="https://localhost")
    assert direct.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_the_basemap_host_is_the_only_other_image_source():
    assert basemap_source("https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}&tk=KEY") == "https://*.tianditu.gov.cn"
    assert basemap_source("http://tiles.local:8080/{z}/{x}/{y}.png") == "http://tiles.local:8080"
    assert basemap_source("") is None and basemap_source("javascript:alert(1)") is None
    assert "img-src 'self' data: blob: https://*.tianditu.gov.cn;" in policy("https://t{s}.tianditu.gov.cn/x")
