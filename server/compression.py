"""Gzip both ways: tablets on weak networks send and receive compressed JSON."""

from __future__ import annotations

import gzip
import io
import zlib

from flask import request

MIN_SIZE = 1024  # below this, gzip costs more than it saves


class GzipRequestMiddleware:
    """Inflate `Content-Encoding: gzip` request bodies, refusing more than `max_bytes` inflated
    (a small gzip bomb would otherwise fill memory before any limit looked at it)."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    def __call__(self, environ, start_response):
        if environ.get("HTTP_CONTENT_ENCODING", "").lower() != "gzip":
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else environ["wsgi.input"].read()
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(raw, self.max_bytes + 1)
            if len(body) > self.max_bytes or inflater.unconsumed_tail:
                return _refuse(start_response, 413, "request.too_large", "The request is too large once inflated.")
        except zlib.error:
            return _refuse(start_response, 400, "request.malformed", "The gzip body cannot be read.")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_CONTENT_ENCODING", None)
        return self.app(environ, start_response)


def _refuse(start_response, status: int, code: str, message: str):
    import json

    body = json.dumps({"code": code, "message": message, "errors": []}).encode()
    reason = {400: "Bad Request", 413: "Request Entity Too Large"}[status]
    start_response(f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def compress_response(response):
    """Gzip a JSON answer when the client accepts it and it is worth it."""
    if (response.direct_passthrough or response.status_code < 200 or response.status_code >= 300
            or "Content-Encoding" in response.headers or response.mimetype != "application/json"
            or "gzip" not in request.headers.get("Accept-Encoding", "").lower()):
        return response
    data = response.get_data()
    if len(data) < MIN_SIZE:
        return response
    response.set_data(gzip.compress(data, compresslevel=5))
    response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    return response


def init_app(app) -> None:
    app.wsgi_app = GzipRequestMiddleware(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])
    app.after_request(compress_response)
