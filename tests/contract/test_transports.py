"""The transports move bytes faithfully: the Flask adapter in process, urllib over loopback."""

from __future__ import annotations

import gzip
import http.server
import json
import socket
import threading

import pytest
from flask import Flask, request

from mobile_contract.client.api import ApiSession, RetriesExhausted, RetryPolicy
from mobile_contract.client.flask_transport import FlaskTransport
from mobile_contract.client.transport import TransportError, UrllibTransport


def echo_app() -> Flask:
    app = Flask(__name__)

    @app.route("/api/v1/echo", methods=["GET", "POST", "PUT"])
    def echo():
        raw = request.get_data()
        if request.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        body = json.dumps({
            "method": request.method, "query": request.args.to_dict(),
            "authorization": request.headers.get("Authorization"),
            "accept_encoding": request.headers.get("Accept-Encoding"),
            "content_encoding": request.headers.get("Content-Encoding"),
            "json": json.loads(raw) if raw else None,
        }, ensure_ascii=False).encode()
        response = app.response_class(gzip.compress(body), content_type="application/json")
        response.headers["Content-Encoding"] = "gzip"
        return response

    @app.route("/api/v1/refuse")
    def refuse():
        return {"code": "auth.device_revoked", "message": "吊销", "errors": []}, 401

    return app


def test_flask_transport_carries_method_query_headers_and_gzip_both_ways():
    session = ApiSession(FlaskTransport(echo_app().test_client()), token="t0k3n", gzip_threshold=10)
    answer = session.call("POST", "/echo", {"姓名": "陈思雨" * 20}, query={"cursor": "c1.x", "limit": 2,
                                                                          "skip": None})
    assert answer == {"method": "POST", "query": {"cursor": "c1.x", "limit": "2"},
                      "authorization": "Bearer t0k3n", "accept_encoding": "gzip",
                      "content_encoding": "gzip", "json": {"姓名": "陈思雨" * 20}}


def test_flask_transport_returns_refusals_as_responses_for_the_client_to_read():
    response = FlaskTransport(echo_app().test_client()).request("GET", "/api/v1/refuse")
    assert response.status == 401
    assert json.loads(response.body)["code"] == "auth.device_revoked"
    assert response.headers["content-type"] == response.headers["Content-Type"]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the stdlib's naming
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length)
        status = 503 if self.path.startswith("/api/v1/busy") else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Retry-After", "0")
        payload = json.dumps({"path": self.path, "size": len(body),
                              "encoding": self.headers.get("Content-Encoding")}).encode()
        if status == 503:
            payload = json.dumps({"code": "db.unavailable", "message": "busy", "errors": []}).encode()
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_urllib_transport_talks_http_and_retries_busy_answers(loopback):
    waits = []
    session = ApiSession(UrllibTransport(loopback, timeout=5),
                         retry=RetryPolicy(attempts=3, sleep=waits.append), gzip_threshold=100)
    answer = session.call("POST", "/sync/push", {"submissions": ["x" * 500]}, query={"a": 1})
    assert answer["path"] == "/api/v1/sync/push?a=1" and answer["encoding"] == "gzip"
    assert answer["size"] < 500
    with pytest.raises(RetriesExhausted) as caught:
        session.call("POST", "/busy", {})
    assert "db.unavailable" in str(caught.value)
    assert waits == [0.0, 0.0]  # Retry-After: 0 honoured


def test_urllib_transport_turns_a_dead_server_into_a_transport_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransportError):
        UrllibTransport(f"http://127.0.0.1:{port}", timeout=2).request("GET", "/api/v1/sync/manifest")
