"""Security headers on every answer, and `no-store` on the API's personal data.

The pages (the workbench at /workbench/, /api/docs) load only the app's own scripts and styles, so
the policy allows no inline script or style and no other origin, except the county's basemap
tiles (BASEMAP_URL) as images. No page may be framed (clickjacking a supervisor's resolve
button), no answer is sniffed into another type (an uploaded file read as HTML), and no
answer of the API holding children's data is kept by a browser or a proxy cache.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from flask import request


def basemap_source(template: str) -> str | None:
    """The CSP source of a tile URL template: https://t{s}.tianditu.gov.cn/… → https://*.tianditu.gov.cn."""
    parts = urlsplit(template or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    labels = parts.hostname.split(".")
    if any("{" in label for label in labels):
        labels = ["*", *[label for label in labels if "{" not in label]]
    host = ".".join(labels)
    if not re.fullmatch(r"[\w*.-]+", host):
        return None
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def policy(basemap_url: str) -> str:
    images = " ".join(filter(None, ["'self'", "data:", "blob:", basemap_source(basemap_url)]))
    return "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self'", f"img-src {images}",
        "font-src 'self' data:", "connect-src 'self'", "object-src 'none'", "base-uri 'none'",
        "form-action 'self'", "frame-ancestors 'none'",
    ])


def _cacheable(response) -> bool:
    """Everything the API answers is someone's data, except what a view marks `private` itself
    and holds no person: tiles (no names, revalidated by ETag) and compiled forms. GeoJSON
    layers carry households' points: never stored."""
    return "private" in response.headers.get("Cache-Control", "") and response.mimetype != "application/geo+json"


def init_app(app) -> None:
    csp = policy(app.config.get("BASEMAP_URL") or os.environ.get("BASEMAP_URL", ""))
    hsts = f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains"

    @app.after_request
    def add_security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if request.is_secure and app.config["HSTS_SECONDS"]:
            # Only over TLS (the proxy's X-Forwarded-Proto counts with PROXY_HOPS set).
            headers.setdefault("Strict-Transport-Security", hsts)
        if request.path.startswith("/api/v1/") and not _cacheable(response):
            headers["Cache-Control"] = "no-store"
            headers.pop("Expires", None)
        return response
