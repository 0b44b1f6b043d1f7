"""A tiny in-memory server, as a Transport, for testing the client's own bookkeeping.

It is not the real server and does not merge: a submission's fields simply overwrite. It
speaks the contract's shapes (every request it receives and every answer it gives is checked
against the schemas) and lets a test script failures: 5xx, refusals, lost files, tampering.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mobile_contract
from mobile_contract.client.tablet import form_sha256, scope_hash
from mobile_contract.client.transport import Response, prepare_body

VILLAGE = "320685105201"
OTHER_VILLAGE = "320685105202"
TIME = "2026-05-28T10:00:00+08:00"


def form(form_id: str, record_type: str) -> dict:
    """Return a small compiled form with a correct sha256."""
    body = {"format": 1, "form_id": form_id, "version": "2026.1", "title": form_id,
            "record_type": record_type,
            "fields": [{"name": "status", "record_field": "status", "type": "text", "label": "状态",
                        "required": False, "merge_policy": "latest", "choices": []}]}
    return {**body, "sha256": form_sha256(body)}


FORMS = {f["form_id"]: f for f in (form("household_survey", "household"),
                                    form("child_survey", "child"), form("followup_visit", "visit"))}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, Any]
    raw_body: bytes | None
    json: Any


@dataclass
class FakeServer:
    villages: set[str] = field(default_factory=lambda: {VILLAGE, OTHER_VILLAGE})
    records: dict[tuple[str, str], dict] = field(default_factory=dict)
    log: list[dict] = field(default_factory=list)  # {"op", "type", "id", "merged_into"?}
    submissions: dict[str, tuple[str, dict]] = field(default_factory=dict)
    attachments: dict[str, bytes] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    codes: set[str] = field(default_factory=lambda: {"CODE-1", "CODE-2"})
    requests: list[Request] = field(default_factory=list)
    supervisor_tokens: set[str] = field(default_factory=set)
    surveyors: list[dict] = field(default_factory=lambda: [
        {"id": 17, "username": "teacher_wangli", "full_name": "王丽", "line": "school"},
        {"id": 18, "username": "cadre_zhangjianguo", "full_name": "张建国", "line": "government"}])
    lie_about_hash: bool = False
    # scripted behaviour
    fail_next: list[int] = field(default_factory=list)  # statuses to answer before handling
    fail_after_handling: int = 0  # handle, then answer 503 this many times
    reject: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # record id -> (field, code)
    unreadable: set[str] = field(default_factory=set)  # record ids that make a whole push 422
    race_once: set[str] = field(default_factory=set)  # record ids refused once with sync.retry
    # Like the real server: apply a submission whose files are missing and list them.
    apply_without_attachments: bool = False
    limits: dict[str, int] = field(default_factory=lambda: {
        "max_batch_submissions": 100, "max_request_bytes": 1_000_000, "max_page_size": 100,
        "max_attachment_bytes": 1_000_000})
    gzip_responses: bool = True
    check_shapes: bool = True
    on_push: Callable[[dict], None] | None = None
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    # -- seeding ------------------------------------------------------------------------------

    def put(self, record_type: str, fields: dict, *, village: str = VILLAGE, household_id=None,
            child_id=None, record_id: str | None = None) -> dict:
        """Create or change a record on the server, as an import or another device would."""
        record_id = record_id or str(uuid.uuid4())
        key = (record_type, record_id)
        old = self.records.get(key)
        record = {"type": record_type, "id": record_id, "version": 1 if old is None else old["version"] + 1,
                  "village_code": village, "household_id": household_id, "updated_at": TIME,
                  "fields": {**(old or {}).get("fields", {}), **fields}, "conflicts": []}
        if record_type == "visit":
            record["child_id"] = child_id
        if record_type == "child":
            # Like the real server: a typed number is kept, never sent back; its status is.
            typed = record["fields"].pop("id_number", None)
            status = record["fields"].get("id_number_status", "missing")
            record["fields"]["id_number_status"] = "matched" if typed else status
        self.records[key] = record
        self.log.append({"op": "upsert", "type": record_type, "id": record_id})
        return record

    def delete(self, record_type: str, record_id: str, merged_into: str | None = None) -> None:
        self.records.pop((record_type, record_id), None)
        self.log.append({"op": "delete", "type": record_type, "id": record_id, "merged_into": merged_into})

    def exit_scope(self, record_type: str, record_id: str) -> None:
        self.records.pop((record_type, record_id), None)
        self.log.append({"op": "scope_exit", "type": record_type, "id": record_id})

    def server_hash(self) -> str:
        if self.lie_about_hash:
            return "f" * 32
        return scope_hash((t, i, r["version"]) for (t, i), r in self.records.items())

    # -- the Transport protocol ---------------------------------------------------------------

    def request(self, method, path, *, json=None, body=None, headers=None, query=None) -> Response:
        data, headers = prepare_body(json, body, headers)
        lowered = {k.lower(): v for k, v in headers.items()}
        if data is not None and lowered.get("content-encoding") == "gzip":
            data = gzip.decompress(data)
        parsed = None
        if data is not None and lowered.get("content-type", "").startswith("application/json"):
            parsed = jsonlib_loads(data)
        self.requests.append(Request(method, path, lowered, dict(query or {}), body, parsed))
        if self.fail_next:
            return self._answer(self.fail_next.pop(0), {"code": "server.internal_error",
                                                        "message": "scripted failure", "errors": []}, lowered)
        status, payload, schema = self._route(method, path, lowered, dict(query or {}), data, parsed)
        if self.fail_after_handling:
            self.fail_after_handling -= 1
            return self._answer(503, {"code": "db.unavailable", "message": "scripted", "errors": []}, lowered)
        if self.check_shapes and payload is not None and (status >= 400 or schema):
            mobile_contract.validate("error" if status >= 400 else schema, payload)
        return self._answer(status, payload, lowered)

    def _answer(self, status: int, payload: Any, headers: dict[str, str]) -> Response:
        if payload is None:
            return Response(status, {}, b"")
        body = json_dumps(payload)
        out = {"Content-Type": "application/json"}
        if self.gzip_responses and "gzip" in headers.get("accept-encoding", "") and len(body) > 200:
            body = gzip.compress(body)
            out["Content-Encoding"] = "gzip"
        return Response(status, out, body)

    def _device(self, headers: dict[str, str]) -> str | None:
        token = headers.get("authorization", "").removeprefix("Bearer ")
        return self.tokens.get(token)

    def _route(self, method, path, headers, query, data, payload):
        assert path.startswith("/api/v1/"), path
        path = path.removeprefix("/api/v1")
        if (method, path) == ("POST", "/devices/enroll"):
            mobile_contract.validate("enroll_request", payload)
            if payload["enrollment_code"] not in self.codes:
                return 404, {"code": "auth.enrollment_code_invalid", "message": "unknown code", "errors": []}, None
            self.codes.discard(payload["enrollment_code"])
            device_id, token = str(uuid.uuid4()), f"token-{next(self._ids)}-{uuid.uuid4().hex}"
            self.tokens[token] = device_id
            return 201, {"device_id": device_id, "token": token}, "enroll_response"
        if path.startswith(("/auth/", "/villages/", "/devices/surveyors", "/devices/enrollment-codes")):
            return self._supervisor(method, path, headers, query, payload)
        device = self._device(headers)
        if device is None:
            return 401, {"code": "auth.invalid_token", "message": "no", "errors": []}, None
        if device in self.revoked:
            return 401, {"code": "auth.device_revoked", "message": "revoked", "errors": []}, None
        if (method, path) == ("GET", "/sync/manifest"):
            return 200, self._manifest(device), "manifest"
        if method == "GET" and path.startswith("/forms/"):
            form_id = path.split("/")[2]
            return 200, FORMS[form_id], "compiled_form"
        if (method, path) == ("GET", "/sync/changes"):
            return 200, self._changes(query), "changes_response"
        if (method, path) == ("POST", "/sync/push"):
            mobile_contract.validate("push_request", payload)
            if len(data) > self.limits["max_request_bytes"]:
                return 413, {"code": "request.too_large", "message": "too large", "errors": []}, None
            for n, submission in enumerate(payload["submissions"]):
                if submission["record"]["id"] in self.unreadable:
                    return 422, {"code": "request.invalid", "message": "invalid", "errors": [
                        {"field": f"submissions.{n}.record.fields", "code": "request.invalid_field",
                         "message": "cannot be read"}]}, None
            return 200, self._push(device, payload), "push_response"
        if (method, path) == ("POST", "/sync/repair"):
            mobile_contract.validate("repair_request", payload)
            return 200, self._repair(payload["have"]), "repair_response"
        if method == "PUT" and path.startswith("/attachments/"):
            digest = path.rsplit("/", 1)[1]
            assert hashlib.sha256(data).hexdigest() == digest
            self.attachments[digest] = data
            return 204, None, None
        return 404, {"code": "request.not_found", "message": "no route", "errors": []}, None

    def _supervisor(self, method, path, headers, query, payload):
        if (method, path) == ("POST", "/auth/login"):
            if payload["password"] != "demo-password":
                return 401, {"code": "auth.invalid_credentials", "message": "no", "errors": []}, None
            token = f"sup-{uuid.uuid4().hex}"
            self.supervisor_tokens.add(token)
            return 200, {"token": token, "expires_at": TIME, "person": {"id": 5, "username": payload["username"]}}, None
        if headers.get("authorization", "").removeprefix("Bearer ") not in self.supervisor_tokens:
            return 401, {"code": "auth.invalid_token", "message": "no", "errors": []}, None
        if method == "GET" and path.startswith("/villages/"):
            code = path.rsplit("/", 1)[1]
            return 200, {"code": code, "name": "吉庆村", "town_code": "320685105000", "town_name": "墩头镇"}, None
        if (method, path) == ("GET", "/devices/surveyors"):
            assert query["village"] in self.villages
            return 200, self.surveyors, "surveyors_list"
        if (method, path) == ("POST", "/devices/enrollment-codes"):
            mobile_contract.validate("enrollment_code_request", payload)
            code = f"CODE-{next(self._ids)}"
            self.codes.add(code)
            return 201, {"enrollment_code": code, "expires_at": TIME, "surveyor_id": payload["surveyor_id"],
                         "qr_png_base64": "iVBORw0KGgo="}, "enrollment_code_response"
        return 404, {"code": "request.not_found", "message": "no route", "errors": []}, None

    def _manifest(self, device: str) -> dict:
        return {"protocol_version": 1, "server_time": TIME,
                "device": {"device_id": device, "device_name": "测试平板"},
                "surveyor": {"id": 17, "username": "teacher_wangli", "full_name": "王丽",
                             "role": "surveyor", "line": "school"},
                "villages": [{"code": v, "name": f"村{v[-3:]}", "town_code": "320685105000",
                              "town_name": "墩头镇"} for v in sorted(self.villages)],
                "forms": [{"form_id": f["form_id"], "version": f["version"], "sha256": f["sha256"]}
                          for f in FORMS.values()],
                "limits": dict(self.limits)}

    def _change(self, entry: dict) -> dict:
        if entry["op"] == "upsert":
            record = self.records.get((entry["type"], entry["id"]))
            if record is None:  # deleted since: the later log entry says so
                return None
            return {"op": "upsert", "record": record}
        return dict(entry)

    def _changes(self, query: dict) -> dict:
        start = int(query.get("cursor") or 0)
        limit = int(query["limit"])
        end = min(len(self.log), start + limit)
        changes = [c for c in (self._change(e) for e in self.log[start:end]) if c is not None]
        has_more = end < len(self.log)
        return {"changes": changes, "cursor": str(end) if end else "0", "has_more": has_more,
                "scope_hash": None if has_more else self.server_hash()}

    def _repair(self, have: dict) -> dict:
        changes = []
        for (record_type, record_id), record in self.records.items():
            if have.get(f"{record_type}:{record_id}") != record["version"]:
                changes.append({"op": "upsert", "record": record})
        for key in have:
            record_type, record_id = key.split(":", 1)
            if (record_type, record_id) not in self.records:
                changes.append({"op": "delete", "type": record_type, "id": record_id, "merged_into": None})
        return {"changes": changes, "scope_hash": self.server_hash(), "cursor": str(len(self.log))}

    def _push(self, device: str, payload: dict) -> dict:
        if self.on_push:
            self.on_push(payload)
        return {"receipts": [self._submit(device, s) for s in payload["submissions"]]}

    def _submit(self, device: str, submission: dict) -> dict:
        sid = submission["submission_id"]
        record = submission["record"]
        canonical = json.dumps(submission, sort_keys=True)

        def receipt(status, version, errors=(), missing=()):
            return {"submission_id": sid, "status": status,
                    "record": {"type": record["type"], "id": record["id"], "version": version},
                    "conflicts": [], "errors": list(errors), "missing_attachments": list(missing)}

        if sid in self.submissions:
            stored, original = self.submissions[sid]
            if stored != canonical:
                return receipt("rejected", None, [{"field": None, "code": "sync.submission_id_reused",
                                                   "message": "reused"}])
            return original  # a re-send: the original receipt, as it was
        if record["id"] in self.reject:
            name, code = self.reject[record["id"]]
            return receipt("rejected", None, [{"field": name, "code": code, "message": code}])
        if record["type"] == "visit" and ("child", record["child_id"]) not in self.records:
            return receipt("rejected", None, [{"field": "child_id", "code": "sync.unknown_reference",
                                               "message": "unknown child"}])
        if record["id"] in self.race_once:
            self.race_once.discard(record["id"])
            return receipt("rejected", None, [{"field": "submission_id", "code": "sync.retry",
                                               "message": "being applied by another request"}])
        missing = [a for a in submission["attachments"] if a.removeprefix("sha256:") not in self.attachments]
        if missing and self.apply_without_attachments:
            stored = self.put(record["type"], record["fields"], village=record["village_code"],
                              household_id=record["household_id"], child_id=record.get("child_id"),
                              record_id=record["id"])
            out = receipt("applied", stored["version"], missing=missing)
            self.submissions[sid] = (canonical, out)
            return out
        if missing:
            return receipt("rejected", None, [{"field": None, "code": "sync.missing_attachment",
                                               "message": "upload first"}], missing)
        stored = self.put(record["type"], record["fields"], village=record["village_code"],
                          household_id=record["household_id"], child_id=record.get("child_id"),
                          record_id=record["id"])
        out = receipt("applied", stored["version"])
        self.submissions[sid] = (canonical, out)
        return out


def json_dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def jsonlib_loads(data: bytes) -> Any:
    return json.loads(data.decode("utf-8"))


UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
