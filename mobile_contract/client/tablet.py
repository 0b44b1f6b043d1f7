"""The reference tablet client: enroll, pull, edit offline, push with retries, repair.

It follows `shared/design/sync-contract.md` to the letter and uses only the standard library,
so it doubles as executable documentation for the real tablet app and as the simulated tablet
of the end-to-end tests and the drill:

    client = TabletClient("tablet.sqlite3", transport=FlaskTransport(app.test_client()))
    client.enroll(code, "王丽的平板")
    client.pull()
    client.edit("child", child_id, {"enrollment_status": "enrolled", "school_name": "…"})
    client.sync()
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mobile_contract.client.api import ApiError, ApiSession, RetryPolicy
from mobile_contract.client.store import Store, dumps, loads
from mobile_contract.client.transport import Transport, UrllibTransport, encode_json

PLATFORM = "python-reference-client"
RECORD_TYPES = ("household", "child", "visit", "task")
WRITABLE_TYPES = ("household", "child", "visit")
# The built-in forms (survey_forms/builtin.py), used when the cached forms do not say which
# form writes a record type.
DEFAULT_FORMS = {"household": "household_survey", "child": "child_survey", "visit": "followup_visit"}
# Receipts that settle a submission: the server has it, whatever the merge decided.
SETTLED = ("applied", "merged", "conflict")
# A refusal that is about timing, not content: the record it points at has not reached the
# server yet (another tablet's new child). The contract says to keep it and send it again.
# sync.retry (the server's addition): the submission raced a concurrent request; send it again.
RETRY_LATER_CODES = frozenset({"sync.unknown_reference", "sync.retry"})
RETRY_NOW_CODES = frozenset({"sync.retry"})
ATTACHMENT_REF = re.compile(r"^sha256:([0-9a-f]{64})$")
# Whole-request refusals about the request's content (too large, unreadable): a batch refused
# so is split to find the submission at fault. Others (401, 403…) stop the push.
REFUSED_AS_A_WHOLE = frozenset({400, 413, 422})
DEFAULT_PAGE_SIZE = 500
DEFAULT_BATCH_SIZE = 100


class ClientError(Exception):
    """The client was asked for something it cannot do (locally, before any request)."""


class ProtocolError(Exception):
    """The server answered something the contract does not allow."""


def scope_hash(records: Iterable[tuple[str, str, int]]) -> str:
    """Compute the contract's scope hash over (type, id, version) triples."""
    acc = 0
    for record_type, record_id, version in records:
        digest = hashlib.sha256(f"{record_type}:{record_id}:{version}".encode()).digest()
        acc ^= int.from_bytes(digest[:16], "big")
    return f"{acc:032x}"


def form_sha256(form: Mapping[str, Any]) -> str:
    """Compute a compiled form's content hash: the form without its sha256, canonical JSON."""
    body = {k: v for k, v in form.items() if k != "sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def now() -> dt.datetime:
    """Return the tablet's clock, with its offset."""
    return dt.datetime.now().astimezone()


@dataclass
class Queued:
    """An edit the tablet queued: which record, under which submission."""

    record_type: str
    record_id: str
    submission_id: str
    device_seq: int


@dataclass
class PullResult:
    """What one pull did."""

    pages: int = 0
    upserts: int = 0
    deletes: int = 0
    scope_exits: int = 0
    skipped_stale: int = 0
    server_hash: str | None = None
    local_hash: str | None = None
    repaired: bool = False
    repair_changes: int = 0

    @property
    def agreed(self) -> bool:
        """Tell whether the local scope hash equals the server's."""
        return self.server_hash is not None and self.server_hash == self.local_hash


@dataclass
class PushResult:
    """What one push did, receipt by receipt."""

    batches: int = 0
    sent: int = 0
    statuses: Counter = field(default_factory=Counter)
    receipts: list[dict] = field(default_factory=list)  # every receipt, in the order received
    conflicts: list[dict] = field(default_factory=list)  # from receipts with status conflict
    rejected: list[dict] = field(default_factory=list)  # moved to the rejected table
    held: list[dict] = field(default_factory=list)  # kept in the outbox to send again
    uploaded: list[str] = field(default_factory=list)
    missing_files: list[str] = field(default_factory=list)  # asked for, but not on this tablet


@dataclass
class SyncResult:
    """A push followed by a pull."""

    push: PushResult
    pull: PullResult


class TabletClient:
    """One tablet: its SQLite store and its connection to the server."""

    def __init__(
        self,
        store_path: str | Path,
        transport: Transport | None = None,
        *,
        server_url: str | None = None,
        retry: RetryPolicy | None = None,
        gzip_threshold: int = 1024,
        page_size: int | None = None,
        batch_size: int | None = None,
        clock: Callable[[], dt.datetime] = now,
        new_id: Callable[[], uuid.UUID] = uuid.uuid4,
        check: Callable[[str, Any], None] | None = None,
    ):
        self.store = Store(store_path)
        if server_url is not None:
            with self.store.transaction():
                self.store.set("server_url", server_url)
        if transport is None:
            url = self.store.get("server_url")
            if not url:
                raise ClientError("give a transport or a server_url")
            transport = UrllibTransport(url)
        self.api = ApiSession(transport, token=self.store.get("token"), retry=retry,
                              gzip_threshold=gzip_threshold, check=check)
        self.page_size = page_size
        self.batch_size = batch_size
        self.clock = clock
        self.new_id = new_id

    @property
    def transport(self) -> Transport:
        """Return the transport requests go through."""
        return self.api.transport

    @transport.setter
    def transport(self, value: Transport) -> None:
        self.api.transport = value

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    # -- settings -----------------------------------------------------------------------------

    @property
    def device_id(self) -> str | None:
        """Return the id the server gave this device at enrollment."""
        return self.store.get("device_id")

    @property
    def cursor(self) -> str | None:
        """Return the cursor of the last page applied."""
        return self.store.get("cursor")

    @property
    def manifest(self) -> dict | None:
        """Return the last manifest fetched."""
        return self.store.get("manifest")

    def villages(self) -> list[str]:
        """List the village codes of the device's scope (from the manifest)."""
        return [v["code"] for v in (self.manifest or {}).get("villages", [])]

    def _limit(self, name: str) -> int | None:
        value = ((self.manifest or {}).get("limits") or {}).get(name)
        return int(value) if isinstance(value, int) and value > 0 else None

    # -- enrollment, manifest, forms ----------------------------------------------------------

    def enroll(self, enrollment_code: str, device_name: str, platform: str = PLATFORM) -> dict:
        """Enroll with a supervisor's one-time code; keep the device id and token."""
        if self.device_id is not None:
            raise ClientError(f"this store is already enrolled as device {self.device_id}")
        # Not retried: the code is one-time, so a retry after a lost answer would only be told
        # the code is used. The person scans a new code instead.
        answer = self.api.call("POST", "/devices/enroll", {
            "enrollment_code": enrollment_code, "device_name": device_name, "platform": platform,
        }, retry=False, request_schema="enroll_request", response_schema="enroll_response")
        with self.store.transaction():
            self.store.set("device_id", answer["device_id"])
            self.store.set("device_name", device_name)
            self._keep_token(answer)
        return answer

    def _keep_token(self, answer: dict) -> None:
        self.store.set("token", answer["token"])
        self.store.set("token_issued_at", self.clock().isoformat())
        self.store.set("token_expires_at", answer.get("expires_at"))
        self.api.token = answer["token"]

    def token_renewal_due(self) -> bool:
        """Whether half of the token's life has passed (a tablet that syncs renews long before
        it expires; one left in a drawer past its expiry must be enrolled again)."""
        issued, expires = self.store.get("token_issued_at"), self.store.get("token_expires_at")
        if not expires:
            return False  # the server did not say (nor does the manifest): nothing to renew
        expires_at = dt.datetime.fromisoformat(expires)
        if not issued:  # learnt from the manifest: renew in the last week
            return self.clock() >= expires_at - dt.timedelta(days=7)
        issued_at = dt.datetime.fromisoformat(issued)
        return self.clock() >= issued_at + (expires_at - issued_at) / 2

    def renew_token(self) -> dict:
        """Trade the token for a new one with a new lifetime (the old one works a while more,
        so an answer lost on the way is no harm: the next sync renews again)."""
        answer = self.api.call("POST", "/devices/token", response_schema="enroll_response")
        with self.store.transaction():
            self._keep_token(answer)
        return answer

    def fetch_manifest(self) -> dict:
        """Fetch and keep the manifest: scope, forms, limits."""
        manifest = self.api.call("GET", "/sync/manifest", response_schema="manifest")
        if manifest.get("protocol_version") != 1:
            raise ProtocolError(f"protocol version {manifest.get('protocol_version')!r} is not 1")
        with self.store.transaction():
            self.store.set("manifest", manifest)
            expires = (manifest.get("device") or {}).get("token_expires_at")
            known = self.store.get("token_expires_at")
            if expires and (not known or dt.datetime.fromisoformat(known) != dt.datetime.fromisoformat(expires)):
                # A token from before this store knew its expiry: the manifest says it.
                self.store.set("token_expires_at", expires)
                self.store.set("token_issued_at", None)
        return manifest

    def fetch_forms(self) -> list[tuple[str, str]]:
        """Download the manifest's forms not cached yet, checking each one's sha256."""
        fetched = []
        for entry in (self.manifest or {}).get("forms", []):
            form_id, version, sha = entry["form_id"], entry["version"], entry["sha256"]
            row = self.store.db.execute(
                "select sha256 from forms where form_id = ? and version = ?", (form_id, version)
            ).fetchone()
            if row is not None and row["sha256"] == sha:
                continue
            form = self.api.call("GET", f"/forms/{form_id}/versions/{version}",
                                 response_schema="compiled_form")
            computed = form_sha256(form)
            if computed != sha or form.get("sha256") != sha:
                raise ProtocolError(f"form {form_id} {version}: sha256 {computed} is not {sha}")
            with self.store.transaction():
                self.store.db.execute(
                    "insert or replace into forms (form_id, version, sha256, body) values (?, ?, ?, ?)",
                    (form_id, version, sha, dumps(form)),
                )
            fetched.append((form_id, version))
        return fetched

    def form(self, form_id: str, version: str) -> dict | None:
        """Return a cached compiled form."""
        row = self.store.db.execute(
            "select body from forms where form_id = ? and version = ?", (form_id, version)
        ).fetchone()
        return None if row is None else loads(row["body"])

    def _form_for(self, record_type: str) -> tuple[str, str]:
        entries = (self.manifest or {}).get("forms", [])
        for entry in entries:
            cached = self.form(entry["form_id"], entry["version"])
            if cached is not None and cached.get("record_type") == record_type:
                return entry["form_id"], entry["version"]
        wanted = DEFAULT_FORMS[record_type]
        for entry in entries:
            if entry["form_id"] == wanted:
                return entry["form_id"], entry["version"]
        raise ClientError(f"no form in the manifest writes {record_type} records; pull first")

    # -- reading the local copy ---------------------------------------------------------------

    def _resolve(self, record_type: str, record_id: str) -> str:
        """Follow merge redirects to the surviving record's id."""
        seen = set()
        while record_id not in seen:
            seen.add(record_id)
            row = self.store.db.execute(
                "select merged_into from redirects where type = ? and id = ?", (record_type, record_id)
            ).fetchone()
            if row is None:
                return record_id
            record_id = row["merged_into"]
        return record_id

    @staticmethod
    def _record_dict(row) -> dict:
        out = {
            "type": row["type"], "id": row["id"], "version": row["version"],
            "village_code": row["village_code"], "household_id": row["household_id"],
            "updated_at": row["updated_at"], "fields": loads(row["fields"]),
            "conflicts": loads(row["conflicts"]),
        }
        if row["type"] == "visit" or row["child_id"] is not None:
            out["child_id"] = row["child_id"]
        return out

    def record(self, record_type: str, record_id: str) -> dict | None:
        """Return a record as the tablet shows it (pending edits included), or None."""
        record_id = self._resolve(record_type, record_id)
        row = self.store.db.execute(
            "select * from records where type = ? and id = ?", (record_type, record_id)
        ).fetchone()
        return None if row is None else self._record_dict(row)

    def records(self, record_type: str | None = None, village_code: str | None = None) -> list[dict]:
        """List records as the tablet shows them, optionally of one type and village."""
        sql, args = "select * from records where 1 = 1", []
        if record_type is not None:
            sql += " and type = ?"
            args.append(record_type)
        if village_code is not None:
            sql += " and village_code = ?"
            args.append(village_code)
        sql += " order by type, id"
        return [self._record_dict(row) for row in self.store.db.execute(sql, args)]

    def server_copies(self, village_codes: Iterable[str] | None = None) -> dict[str, dict]:
        """Return the server's copy of each record held, by "<type>:<id>" (for agreement checks)."""
        sql = "select type, id, server_record, village_code from records where server_record is not null"
        wanted = None if village_codes is None else set(village_codes)
        out = {}
        for row in self.store.db.execute(sql):
            if wanted is None or row["village_code"] in wanted:
                out[f"{row['type']}:{row['id']}"] = loads(row["server_record"])
        return out

    def scope_hash(self) -> str:
        """Compute the scope hash of the records the server has sent this tablet."""
        rows = self.store.db.execute("select type, id, version from records where version is not null")
        return scope_hash((r["type"], r["id"], r["version"]) for r in rows)

    def outbox(self) -> list[dict]:
        """List the submissions waiting to be sent, in device_seq order."""
        rows = self.store.db.execute("select * from outbox order by device_seq")
        return [{"submission": loads(r["body"]), "attempts": r["attempts"],
                 "last_error": loads(r["last_error"]), "retargeted_from": r["retargeted_from"]}
                for r in rows]

    def rejected(self) -> list[dict]:
        """List the submissions the server refused, with its reasons."""
        rows = self.store.db.execute("select * from rejected order by device_seq")
        return [{"submission": loads(r["body"]), "errors": loads(r["errors"]),
                 "receipt": loads(r["receipt"]), "rejected_at": r["rejected_at"]} for r in rows]

    # -- editing offline ----------------------------------------------------------------------

    def add_attachment(self, data: bytes, media_type: str | None = None) -> str:
        """Keep a file (a photo) on the tablet; return its reference sha256:<hex>."""
        digest = hashlib.sha256(data).hexdigest()
        with self.store.transaction():
            self.store.db.execute(
                "insert or ignore into attachments (sha256, data, media_type, created_at) "
                "values (?, ?, ?, ?)",
                (digest, data, media_type, self.clock().isoformat(timespec="seconds")),
            )
        return f"sha256:{digest}"

    def create(
        self,
        record_type: str,
        fields: Mapping[str, Any],
        *,
        village_code: str | None = None,
        household_id: str | None = None,
        child_id: str | None = None,
        record_id: str | None = None,
        **options: Any,
    ) -> Queued:
        """Create a record on the tablet (a new uuid4) and queue its first submission."""
        if record_type not in WRITABLE_TYPES:
            raise ClientError(f"a tablet cannot create {record_type} records")
        if record_type == "visit":
            if child_id is None:
                raise ClientError("a visit needs child_id")
            child = self.record("child", child_id)
            if child is None:
                raise ClientError(f"no child {child_id} on this tablet")
            child_id = child["id"]
            household_id = household_id or child["household_id"]
            village_code = village_code or child["village_code"]
        if record_type == "child":
            if household_id is None:
                raise ClientError("a child needs household_id")
            household = self.record("household", household_id)
            if household is not None:
                household_id = household["id"]
                village_code = village_code or household["village_code"]
        if village_code is None:
            raise ClientError(f"a new {record_type} needs village_code")
        if self.manifest is not None and village_code not in self.villages():
            raise ClientError(f"village {village_code} is not in this tablet's scope")
        record_id = record_id or str(self.new_id())
        return self._queue(record_type, record_id, fields, new={
            "village_code": village_code, "household_id": household_id, "child_id": child_id,
        }, **options)

    def edit(self, record_type: str, record_id: str, fields: Mapping[str, Any], **options: Any) -> Queued:
        """Change fields of a record offline: apply them locally now, queue the submission."""
        if record_type not in WRITABLE_TYPES:
            raise ClientError(f"{record_type} records are read-only on the tablet")
        if record_type == "visit":
            raise ClientError("visits are append-only: create another visit instead")
        return self._queue(record_type, record_id, fields, new=None, **options)

    def _queue(
        self,
        record_type: str,
        record_id: str,
        fields: Mapping[str, Any],
        *,
        new: dict | None,
        location: Mapping[str, Any] | None = None,
        captured_at: dt.datetime | None = None,
        attachments: Mapping[str, bytes] | None = None,
        form_id: str | None = None,
        form_version: str | None = None,
    ) -> Queued:
        fields = dict(fields)
        for name, data in (attachments or {}).items():
            fields[name] = self.add_attachment(data)
        refs = sorted({v for v in fields.values() if isinstance(v, str) and ATTACHMENT_REF.match(v)})
        if form_id is None:
            form_id, default_version = self._form_for(record_type)
            form_version = form_version or default_version
        elif form_version is None:
            raise ClientError("give form_version with form_id")
        captured = (captured_at or self.clock()).isoformat(timespec="seconds")
        with self.store.transaction() as db:
            record_id = self._resolve(record_type, record_id)
            row = db.execute("select * from records where type = ? and id = ?",
                             (record_type, record_id)).fetchone()
            if new is None and row is None:
                raise ClientError(f"no {record_type} {record_id} on this tablet")
            if new is not None and row is not None:
                raise ClientError(f"{record_type} {record_id} exists already")
            source = new if row is None else {
                "village_code": row["village_code"], "household_id": row["household_id"],
                "child_id": row["child_id"],
            }
            submitted = {
                "type": record_type, "id": record_id,
                # null for a record this tablet created and has not received back yet
                "base_version": None if row is None else row["version"],
                "household_id": source["household_id"],
                "village_code": source["village_code"],
                "fields": fields,
            }
            if record_type == "visit":
                submitted["child_id"] = source["child_id"]
            seq = self.store.next_device_seq()
            submission = {
                "submission_id": str(self.new_id()), "device_seq": seq, "form_id": form_id,
                "form_version": form_version, "captured_at": captured,
                "location": None if location is None else dict(location),
                "record": submitted, "attachments": refs,
            }
            self._insert_outbox(submission)
            if row is None:
                db.execute(
                    "insert into records (type, id, version, village_code, household_id, child_id, "
                    "fields, conflicts, server_record, updated_at) values (?, ?, null, ?, ?, ?, ?, '[]', null, ?)",
                    (record_type, record_id, source["village_code"], source["household_id"],
                     source["child_id"], dumps(fields), captured),
                )
            else:
                shown = loads(row["fields"])
                shown.update(fields)
                db.execute("update records set fields = ? where type = ? and id = ?",
                           (dumps(shown), record_type, record_id))
        return Queued(record_type, record_id, submission["submission_id"], seq)

    def _insert_outbox(self, submission: dict, retargeted_from: str | None = None) -> None:
        record = submission["record"]
        self.store.db.execute(
            "insert into outbox (submission_id, device_seq, record_type, record_id, body, created_at, "
            "retargeted_from) values (?, ?, ?, ?, ?, ?, ?)",
            (submission["submission_id"], submission["device_seq"], record["type"], record["id"],
             dumps(submission), self.clock().isoformat(timespec="seconds"), retargeted_from),
        )

    def _pending_fields(self, record_type: str, record_id: str) -> dict | None:
        """The fields of the outbox's submissions for a record, laid over each other in order."""
        rows = self.store.db.execute(
            "select body from outbox where record_type = ? and record_id = ? order by device_seq",
            (record_type, record_id),
        ).fetchall()
        if not rows:
            return None
        out: dict = {}
        for row in rows:
            out.update(loads(row["body"])["record"]["fields"])
        return out

    def _rebuild(self, record_type: str, record_id: str) -> None:
        """Recompute what the tablet shows for a record from the server copy and the outbox."""
        db = self.store.db
        row = db.execute("select server_record from records where type = ? and id = ?",
                         (record_type, record_id)).fetchone()
        pending = self._pending_fields(record_type, record_id)
        server = None if row is None else loads(row["server_record"])
        if server is None:
            if pending is None:
                # Created on this tablet, and its creation was refused: nothing is left of it.
                db.execute("delete from records where type = ? and id = ?", (record_type, record_id))
            elif row is not None:
                db.execute("update records set fields = ? where type = ? and id = ?",
                           (dumps(pending), record_type, record_id))
            return
        shown = dict(server["fields"])
        shown.update(pending or {})
        db.execute("update records set fields = ? where type = ? and id = ?",
                   (dumps(shown), record_type, record_id))

    # -- pull ---------------------------------------------------------------------------------

    def pull(self, limit: int | None = None) -> PullResult:
        """Page through the changes since the stored cursor, then check the scope hash."""
        if self.manifest is None:
            self.fetch_manifest()
        limit = limit or self.page_size or self._limit("max_page_size") or DEFAULT_PAGE_SIZE
        result = PullResult()
        cursor = self.cursor
        while True:
            page = self.api.call("GET", "/sync/changes", query={"cursor": cursor, "limit": limit},
                                 response_schema="changes_response")
            if not isinstance(page, dict) or "cursor" not in page or "has_more" not in page:
                raise ProtocolError("a changes page needs changes, cursor and has_more")
            # One transaction per page, cursor included: after a crash the tablet resumes from
            # the last page it fully applied, and never holds a cursor past changes it lacks.
            with self.store.transaction():
                self._apply(page.get("changes") or [], result)
                self.store.set("cursor", page["cursor"])
            result.pages += 1
            if not page["has_more"]:
                result.server_hash = page.get("scope_hash")
                break
            if page["cursor"] == cursor and not page.get("changes"):
                raise ProtocolError("the server says has_more but the cursor does not move")
            cursor = page["cursor"]
        result.local_hash = self.scope_hash()
        if result.server_hash is not None and result.local_hash != result.server_hash:
            repair = self.repair()
            result.repaired = True
            result.repair_changes = repair.upserts + repair.deletes + repair.scope_exits
            result.server_hash, result.local_hash = repair.server_hash, repair.local_hash
        return result

    def repair(self) -> PullResult:
        """Send the versions held; apply the server's answer that makes the copies equal."""
        have = {
            f"{r['type']}:{r['id']}": r["version"]
            for r in self.store.db.execute("select type, id, version from records where version is not null")
        }
        answer = self.api.call("POST", "/sync/repair", {"have": have},
                               request_schema="repair_request", response_schema="repair_response")
        result = PullResult(pages=1)
        with self.store.transaction():
            # The repair is the server's authoritative answer: apply even an older version.
            self._apply(answer.get("changes") or [], result, authoritative=True)
            if answer.get("cursor"):
                # Given with the repair (the server's addition): the copy now equals the
                # server's as of this cursor, so pulling on from it skips nothing.
                self.store.set("cursor", answer["cursor"])
        result.server_hash = answer.get("scope_hash")
        result.local_hash = self.scope_hash()
        return result

    def _apply(self, changes: list[dict], result: PullResult, *, authoritative: bool = False) -> None:
        for change in changes:
            op = change.get("op")
            if op == "upsert":
                if self._upsert(change["record"], authoritative):
                    result.upserts += 1
                else:
                    result.skipped_stale += 1
            elif op == "delete":
                self._delete(change["type"], change["id"], change.get("merged_into"))
                result.deletes += 1
            elif op == "scope_exit":
                # Out of scope: the tablet may no longer see it. Queued edits stay queued; the
                # server answers them with a refusal that lands in `rejected`, visible to the user.
                self.store.db.execute("delete from records where type = ? and id = ?",
                                      (change["type"], change["id"]))
                result.scope_exits += 1
            else:
                raise ProtocolError(f"unknown change op {op!r}")

    def _upsert(self, record: dict, authoritative: bool) -> bool:
        db = self.store.db
        row = db.execute("select version from records where type = ? and id = ?",
                         (record["type"], record["id"])).fetchone()
        if (not authoritative and row is not None and row["version"] is not None
                and record["version"] < row["version"]):
            # An older copy than the one held (a page read before a repair): keep the newer.
            return False
        shown = dict(record.get("fields") or {})
        shown.update(self._pending_fields(record["type"], record["id"]) or {})
        db.execute(
            "insert into records (type, id, version, village_code, household_id, child_id, fields, "
            "conflicts, server_record, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "on conflict (type, id) do update set version = excluded.version, "
            "village_code = excluded.village_code, household_id = excluded.household_id, "
            "child_id = excluded.child_id, fields = excluded.fields, conflicts = excluded.conflicts, "
            "server_record = excluded.server_record, updated_at = excluded.updated_at",
            (record["type"], record["id"], record["version"], record["village_code"],
             record.get("household_id"), record.get("child_id"), dumps(shown),
             dumps(record.get("conflicts") or []), dumps(record), record.get("updated_at")),
        )
        return True

    def _delete(self, record_type: str, record_id: str, merged_into: str | None) -> None:
        db = self.store.db
        db.execute("delete from records where type = ? and id = ?", (record_type, record_id))
        if merged_into is None:
            return
        db.execute("insert or replace into redirects (type, id, merged_into) values (?, ?, ?)",
                   (record_type, record_id, merged_into))
        # Earlier losers that pointed at this one now point at the survivor.
        db.execute("update redirects set merged_into = ? where type = ? and merged_into = ?",
                   (merged_into, record_type, record_id))
        self._retarget(record_type, record_id, merged_into)

    def _retarget(self, record_type: str, loser: str, winner: str) -> None:
        """Point queued edits of a merged-away record at the survivor, as new submissions.

        The content changes (another record id), so each gets a new submission_id: re-sending
        the old id with new content would be refused as sync.submission_id_reused. It keeps
        its device_seq, so it still orders correctly against this tablet's other edits.
        """
        db = self.store.db
        rows = db.execute(
            "select submission_id, body from outbox where record_type = ? and record_id = ? "
            "order by device_seq", (record_type, loser),
        ).fetchall()
        winner_row = db.execute("select version from records where type = ? and id = ?",
                                (record_type, winner)).fetchone()
        for row in rows:
            submission = loads(row["body"])
            submission["submission_id"] = str(self.new_id())
            submission["record"]["id"] = winner
            submission["record"]["base_version"] = None if winner_row is None else winner_row["version"]
            db.execute("delete from outbox where submission_id = ?", (row["submission_id"],))
            self._insert_outbox(submission, retargeted_from=row["submission_id"])
        # Children and visits queued against the loser follow it to the survivor too.
        columns = {"child": [("visit", "child_id")],
                   "household": [("child", "household_id"), ("visit", "household_id")]}
        for dependent_type, column in columns.get(record_type, []):
            dependents = db.execute("select submission_id, body from outbox where record_type = ? "
                                    "order by device_seq", (dependent_type,)).fetchall()
            for row in dependents:
                submission = loads(row["body"])
                if submission["record"].get(column) != loser:
                    continue
                submission["record"][column] = winner
                submission["submission_id"] = str(self.new_id())
                db.execute("delete from outbox where submission_id = ?", (row["submission_id"],))
                self._insert_outbox(submission, retargeted_from=row["submission_id"])
        if rows and winner_row is not None:
            self._rebuild(record_type, winner)

    # -- push ---------------------------------------------------------------------------------

    def push(self, batch_size: int | None = None) -> PushResult:
        """Send the outbox in device_seq order, in batches; settle each submission by its receipt."""
        batch_size = batch_size or self.batch_size or self._limit("max_batch_submissions") or DEFAULT_BATCH_SIZE
        result = PushResult()
        # Files an earlier push was asked for but could not deliver (the network went away).
        self._upload_requested(result)
        pending = [r["submission_id"] for r in
                   self.store.db.execute("select submission_id from outbox order by device_seq")]
        again = self._send(pending, batch_size, result)
        self._upload_requested(result)
        if again:
            # Refused for lacking files that are now uploaded, or told to send again
            # (sync.retry, a race with a concurrent request): one more round, no more.
            self._send(again, batch_size, result)
        return result

    def _batches(self, bodies: list[dict], batch_size: int) -> list[list[dict]]:
        max_bytes = self._limit("max_request_bytes")
        batches, current, size = [], [], 20
        for body in bodies:
            body_size = len(encode_json(body)) + 1
            if current and (len(current) >= batch_size or (max_bytes and size + body_size > max_bytes)):
                batches.append(current)
                current, size = [], 20
            current.append(body)
            size += body_size
        if current:
            batches.append(current)
        return batches

    def _send(self, submission_ids: list[str], batch_size: int, result: PushResult) -> list[str]:
        """Push these outbox submissions; return those worth sending again at once."""
        bodies = []
        for submission_id in submission_ids:
            row = self.store.db.execute("select body from outbox where submission_id = ?",
                                        (submission_id,)).fetchone()
            if row is not None:
                bodies.append(loads(row["body"]))
        resend: list[str] = []
        queue = self._batches(bodies, batch_size)
        while queue:
            batch = queue.pop(0)
            try:
                answer = self.api.call("POST", "/sync/push", {"submissions": batch},
                                      request_schema="push_request", response_schema="push_response")
            except ApiError as error:
                if error.status not in REFUSED_AS_A_WHOLE:
                    raise
                # Nothing of the batch was applied. Halve it until the one submission at fault
                # stands alone, and keep that one among the rejected: one bad submission
                # (too large, or one the server cannot read) must not block the outbox.
                if len(batch) > 1:
                    half = len(batch) // 2
                    queue[:0] = [batch[:half], batch[half:]]
                    continue
                self._refused_alone(batch[0], error, result)
                continue
            result.batches += 1
            result.sent += len(batch)
            receipts = (answer or {}).get("receipts")
            if not isinstance(receipts, list) or [r.get("submission_id") for r in receipts] != [
                    s["submission_id"] for s in batch]:
                raise ProtocolError("the push answer must have one receipt per submission, in order")
            resend.extend(self._settle(batch, receipts, result))
        return resend

    def _settle(self, batch: list[dict], receipts: list[dict], result: PushResult) -> list[str]:
        """Apply one batch's receipts in one transaction; return the submissions to send again."""
        again: list[str] = []
        at = self.clock().isoformat(timespec="seconds")
        db = self.store.db
        with self.store.transaction():
            for submission, receipt in zip(batch, receipts, strict=True):
                status = receipt.get("status")
                result.statuses[status] += 1
                result.receipts.append(receipt)
                sid = submission["submission_id"]
                record = submission["record"]
                errors = receipt.get("errors") or []
                missing = [m for m in receipt.get("missing_attachments") or [] if ATTACHMENT_REF.match(m)]
                lost = self._request_files(missing, at, result)
                if status in SETTLED:
                    # Settled, even when files are missing: they are uploaded on their own
                    # (content-addressed), so a stale list in a stored receipt sent back for a
                    # re-send can never keep a submission in the outbox.
                    db.execute("delete from outbox where submission_id = ?", (sid,))
                    self._show_settled(receipt.get("record") or {})
                    if status == "conflict":
                        result.conflicts.extend(receipt.get("conflicts") or [])
                    continue
                if status != "rejected":
                    raise ProtocolError(f"unknown receipt status {status!r}")
                codes = {e.get("code") for e in errors}
                if missing and not lost:
                    again.append(sid)
                elif codes and codes <= RETRY_LATER_CODES:
                    if codes & RETRY_NOW_CODES:
                        again.append(sid)
                else:
                    if lost:
                        errors = [*errors, *({"field": None, "code": "client.attachment_lost",
                                              "message": f"{ref} is not on this tablet any more"}
                                             for ref in lost)]
                    self._move_to_rejected(submission, errors, receipt, at)
                    result.rejected.append({"submission_id": sid, "record": record, "errors": errors})
                    continue
                db.execute("update outbox set attempts = attempts + 1, last_error = ? "
                           "where submission_id = ?", (dumps(errors), sid))
                result.held.append({"submission_id": sid, "errors": errors, "missing_attachments": missing})
        return again

    def _show_settled(self, record: dict) -> None:
        """Show the server's value again where a settled edit did not change the record.

        Scenario: a tablet holds a household "confirmed", and "visited" is entered on it (an
        old paper form copied in, or an edit queued before the confirmation was pulled).
        `monotonic` keeps "confirmed" and the record's version does not move, so no pull will
        ever bring the record back: without this the tablet would show "visited" for good.
        When the tablet already holds the receipt's version (or a newer one), its server copy
        is what the server has, so it shows that plus what is still queued; otherwise the next
        pull brings the new version and rebuilds it then.
        """
        version = record.get("version")
        if not isinstance(version, int) or record.get("type") is None or record.get("id") is None:
            return
        row = self.store.db.execute("select version from records where type = ? and id = ?",
                                    (record["type"], record["id"])).fetchone()
        if row is not None and row["version"] is not None and row["version"] >= version:
            self._rebuild(record["type"], record["id"])

    def _request_files(self, refs: list[str], at: str, result: PushResult) -> list[str]:
        """Mark files the server asked for, to upload; return those not on this tablet."""
        lost = []
        for ref in refs:
            digest = ATTACHMENT_REF.match(ref).group(1)
            # uploaded_at cleared: asked again after an upload, the server did not keep it.
            updated = self.store.db.execute(
                "update attachments set requested_at = ?, uploaded_at = null where sha256 = ?",
                (at, digest)).rowcount
            if not updated:
                lost.append(ref)
                result.missing_files.append(ref)
        return lost

    def _move_to_rejected(self, submission: dict, errors: list[dict], receipt: dict, at: str) -> None:
        record = submission["record"]
        db = self.store.db
        db.execute(
            "insert or replace into rejected (submission_id, device_seq, record_type, record_id, "
            "body, errors, receipt, rejected_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
            (submission["submission_id"], submission["device_seq"], record["type"], record["id"],
             dumps(submission), dumps(errors), dumps(receipt), at),
        )
        db.execute("delete from outbox where submission_id = ?", (submission["submission_id"],))
        # What the tablet shows must not keep a value the server refused.
        self._rebuild(record["type"], record["id"])

    def _refused_alone(self, submission: dict, error: ApiError, result: PushResult) -> None:
        """Keep a submission the server refused as a request of its own among the rejected."""
        record = submission["record"]
        errors = error.errors or [{"field": None, "code": error.code, "message": error.message}]
        receipt = {"submission_id": submission["submission_id"], "status": "rejected",
                   "record": {"type": record["type"], "id": record["id"], "version": None},
                   "conflicts": [], "errors": errors, "missing_attachments": [],
                   "http_status": error.status}
        with self.store.transaction():
            self._move_to_rejected(submission, errors, receipt, self.clock().isoformat(timespec="seconds"))
        result.statuses["rejected"] += 1
        result.rejected.append({"submission_id": submission["submission_id"], "record": record,
                                "errors": errors})

    def _upload_requested(self, result: PushResult) -> None:
        """PUT every file the server asked for and has not received yet."""
        rows = self.store.db.execute(
            "select sha256, media_type from attachments where requested_at is not null "
            "and uploaded_at is null order by requested_at, sha256").fetchall()
        for row in rows:
            digest = row["sha256"]
            data = self.store.db.execute("select data from attachments where sha256 = ?",
                                         (digest,)).fetchone()["data"]
            self.api.send("PUT", f"/attachments/{digest}", body=bytes(data),
                          headers={"Content-Type": row["media_type"] or "application/octet-stream"})
            with self.store.transaction():
                self.store.db.execute("update attachments set uploaded_at = ? where sha256 = ?",
                                      (self.clock().isoformat(timespec="seconds"), digest))
            result.uploaded.append(f"sha256:{digest}")

    # -- both ---------------------------------------------------------------------------------

    def sync(self, *, batch_size: int | None = None) -> SyncResult:
        """Renew the token when due, push the outbox, refresh the manifest, then pull."""
        if self.token_renewal_due():
            self.renew_token()
        pushed = self.push(batch_size)
        self.fetch_manifest()
        pulled = self.pull()
        return SyncResult(pushed, pulled)
