"""JSON calls over a transport: gzip both ways, the error shape, and retries with backoff."""

from __future__ import annotations

import gzip
import json as jsonlib
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mobile_contract.client.transport import Response, Transport, TransportError, encode_json

API_PREFIX = "/api/v1"
# Statuses worth trying again with the same request: the server is busy or briefly broken.
# Everything else in 4xx is an answer about the request itself, which a retry would not change.
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class ApiError(Exception):
    """The server refused a request: a stable code, a message and per-field errors."""

    def __init__(self, status: int, code: str, message: str, errors: list[dict] | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors or []


class DeviceRevoked(ApiError):
    """The server revoked this device (401 auth.device_revoked): enroll it again."""


class RetriesExhausted(Exception):
    """A request kept failing transiently; nothing is lost, try again later."""

    def __init__(self, message: str, last: Exception | Response | None):
        super().__init__(message)
        self.last = last


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter, capped; honours Retry-After on 429 and 503."""

    attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    rng: random.Random = field(default_factory=random.Random)
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Return how long to wait before attempt number `attempt` + 1 (attempt counts from 1)."""
        if retry_after is not None:
            try:
                return min(self.max_delay, max(0.0, float(retry_after)))
            except ValueError:
                pass  # an HTTP date: fall back to our own backoff
        # Full jitter: tablets that lost the network together do not all retry together.
        return self.rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


def decode_body(response: Response) -> bytes:
    """Return the response body, gunzipped if the server compressed it."""
    if response.headers.get("Content-Encoding", "").lower() == "gzip":
        return gzip.decompress(response.body)
    return response.body


def error_from(response: Response) -> ApiError:
    """Build the ApiError for a refusal, whatever the body looks like."""
    code, message, errors = f"http.{response.status}", f"HTTP {response.status}", []
    try:
        data = jsonlib.loads(decode_body(response) or b"null")
    except (ValueError, OSError):
        data = None
    if isinstance(data, dict) and isinstance(data.get("code"), str):
        code = data["code"]
        message = str(data.get("message") or code)
        errors = data.get("errors") if isinstance(data.get("errors"), list) else []
    cls = DeviceRevoked if code == "auth.device_revoked" else ApiError
    return cls(response.status, code, message, errors)


class ApiSession:
    """Call the server's JSON API with one bearer token."""

    def __init__(
        self,
        transport: Transport,
        *,
        token: str | None = None,
        retry: RetryPolicy | None = None,
        gzip_threshold: int = 1024,
        prefix: str = API_PREFIX,
        check: Callable[[str, Any], None] | None = None,
    ):
        self.transport = transport
        # Optional contract check, e.g. `mobile_contract.validate`: called with a schema name
        # and each request body and answer sent or read, so tests catch any drift from the
        # schemas. Off by default: a tablet trusts its server and has no jsonschema.
        self.check = check
        self.token = token
        self.retry = retry or RetryPolicy()
        self.gzip_threshold = gzip_threshold
        self.prefix = prefix
        self.requests = 0  # counted for the drill's report

    def headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Return the headers every request carries."""
        headers = {"Accept": "application/json", "Accept-Encoding": "gzip"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    def encode(self, payload: Any) -> tuple[bytes, dict[str, str]]:
        """Encode a JSON body, gzipped when it is large enough for that to pay."""
        data = encode_json(payload)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if len(data) > self.gzip_threshold:
            # mtime=0: the same payload gives the same bytes, so a retry is byte-identical.
            data = gzip.compress(data, mtime=0)
            headers["Content-Encoding"] = "gzip"
        return data, headers

    def send(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        retry: bool = True,
    ) -> Response:
        """Send a request, retrying transient failures with the same bytes; raise on refusal."""
        attempts = self.retry.attempts if retry else 1
        if query:
            query = {k: v for k, v in query.items() if v is not None}
        last: Exception | Response | None = None
        for attempt in range(1, attempts + 1):
            retry_after = None
            try:
                self.requests += 1
                response = self.transport.request(
                    method, self.prefix + path, body=body, headers=self.headers(headers), query=query
                )
            except TransportError as error:
                last = error
            else:
                if response.status not in TRANSIENT_STATUSES:
                    if response.status >= 400:
                        error = error_from(response)
                        if self.check is not None:
                            try:
                                refusal = jsonlib.loads(decode_body(response))
                            except (ValueError, OSError):
                                refusal = None  # not JSON: the check reports it
                            self.check("error", refusal)
                        raise error
                    return response
                last = response
                retry_after = response.headers.get("Retry-After")
            if attempt < attempts:
                self.retry.sleep(self.retry.delay(attempt, retry_after))
        if isinstance(last, Response):
            raise RetriesExhausted(f"{method} {path}: still failing after {attempts} attempts: "
                                   f"{error_from(last)}", last)
        raise RetriesExhausted(f"{method} {path}: still failing after {attempts} attempts: {last}", last)

    def call(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        query: Mapping[str, Any] | None = None,
        retry: bool = True,
        request_schema: str | None = None,
        response_schema: str | None = None,
    ) -> Any:
        """Send JSON (if any), return the decoded JSON answer (None for an empty body)."""
        if self.check is not None and request_schema is not None:
            self.check(request_schema, payload)
        body, headers = (None, {}) if payload is None else self.encode(payload)
        response = self.send(method, path, body=body, headers=headers, query=query, retry=retry)
        data = decode_body(response)
        answer = jsonlib.loads(data) if data else None
        if self.check is not None and response_schema is not None:
            self.check(response_schema, answer)
        return answer
