"""The client's HTTP layer as a small pluggable protocol, a real urllib transport, and a faulty one.

A transport moves bytes: it does no JSON decoding of answers, no gzip and no retries (the
client does those, the same way over every transport). Connection problems raise
`TransportError`; any HTTP status, 4xx and 5xx included, is a `Response`.
"""

from __future__ import annotations

import http.client
import json as jsonlib
import random
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class TransportError(Exception):
    """The request may or may not have reached the server, and no answer came back."""


class CaseInsensitiveHeaders(dict):
    """Header names folded to lower case, so lookups do not depend on the server's spelling."""

    def __init__(self, items: Mapping[str, str] | None = None):
        super().__init__()
        for key, value in (items or {}).items():
            self[key] = value

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key.lower(), value)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


@dataclass
class Response:
    """An HTTP answer: status, headers (case-insensitive) and the body bytes as received."""

    status: int
    headers: CaseInsensitiveHeaders = field(default_factory=CaseInsensitiveHeaders)
    body: bytes = b""

    def __post_init__(self):
        if not isinstance(self.headers, CaseInsensitiveHeaders):
            self.headers = CaseInsensitiveHeaders(self.headers)


class Transport(Protocol):
    """Send one request and return the server's answer."""

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
    ) -> Response: ...


def encode_json(payload: Any) -> bytes:
    """Encode a payload as compact UTF-8 JSON."""
    return jsonlib.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def prepare_body(
    json: Any, body: bytes | None, headers: Mapping[str, str] | None
) -> tuple[bytes | None, dict[str, str]]:
    """Turn a request's json or body argument into bytes and headers, as every transport must."""
    out = dict(headers or {})
    if json is not None:
        if body is not None:
            raise ValueError("pass json or body, not both")
        body = encode_json(json)
        out.setdefault("Content-Type", "application/json; charset=utf-8")
    return body, out


def query_string(query: Mapping[str, Any] | None) -> str:
    """Encode query parameters, leaving out those that are None."""
    if not query:
        return ""
    pairs = [(k, v) for k, v in query.items() if v is not None]
    return urllib.parse.urlencode(pairs)


class UrllibTransport:
    """Talk to a real server with the standard library, with a timeout on every request."""

    def __init__(self, base_url: str, *, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        # No proxy from the environment: a tablet syncs with its county's server directly, and
        # the drill must not send loopback traffic through a proxy either.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def request(self, method, path, *, json=None, body=None, headers=None, query=None) -> Response:
        """Send one request over HTTP(S)."""
        data, all_headers = prepare_body(json, body, headers)
        url = self.base_url + path
        qs = query_string(query)
        if qs:
            url += "?" + qs
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) URL: {url}")
        req = urllib.request.Request(url, data=data, headers=all_headers, method=method)  # noqa: S310 - scheme checked above
        try:
            with self._opener.open(req, timeout=self.timeout) as answer:
                return Response(answer.status, CaseInsensitiveHeaders(dict(answer.headers.items())), answer.read())
        except urllib.error.HTTPError as error:
            # 4xx and 5xx are answers, not transport failures: the client reads their body.
            with error:
                return Response(error.code, CaseInsensitiveHeaders(dict(error.headers.items())), error.read())
        except (OSError, http.client.HTTPException) as error:
            # URLError, timeouts and connection resets are all OSErrors.
            raise TransportError(f"{method} {path}: {error}") from error


class FaultyTransport:
    """Wrap a transport and inject a weak network's failures, driven by a seeded RNG."""

    # fail_before: the request never leaves (no signal, connection refused).
    # drop_response: the server handled the request but its answer is lost (a timeout after the
    #   server committed), the case that tests idempotent retries.
    # duplicate: the request reaches the server twice (a retransmission); the second answer is
    #   returned.
    # Only `methods` are disturbed; `faults` counts what was injected; `enabled` switches it off.

    def __init__(
        self,
        inner: Transport,
        rng: random.Random | int | None = None,
        *,
        fail_before: float = 0.1,
        drop_response: float = 0.1,
        duplicate: float = 0.1,
        methods: tuple[str, ...] = ("GET", "POST", "PUT", "HEAD"),
    ):
        self.inner = inner
        self.rng = rng if isinstance(rng, random.Random) else random.Random(rng)
        self.fail_before = fail_before
        self.drop_response = drop_response
        self.duplicate = duplicate
        self.methods = methods
        self.faults: Counter[str] = Counter()
        self.enabled = True

    def request(self, method, path, *, json=None, body=None, headers=None, query=None) -> Response:
        """Send the request through the inner transport, perhaps failing on purpose."""
        if not self.enabled or method not in self.methods:
            return self.inner.request(method, path, json=json, body=body, headers=headers, query=query)
        roll = self.rng.random()
        if roll < self.fail_before:
            self.faults["fail_before"] += 1
            raise TransportError(f"{method} {path}: injected failure before sending")
        response = self.inner.request(method, path, json=json, body=body, headers=headers, query=query)
        roll -= self.fail_before
        if roll < self.drop_response:
            self.faults["drop_response"] += 1
            raise TransportError(f"{method} {path}: injected loss of the response")
        roll -= self.drop_response
        if roll < self.duplicate:
            self.faults["duplicate"] += 1
            return self.inner.request(method, path, json=json, body=body, headers=headers, query=query)
        return response
