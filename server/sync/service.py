"""The tablet contract's reads: manifest, changes (pull) and repair. Push is in push.py.

Each function takes the request's session and never commits: the HTTP edge commits once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass

from flask import current_app
from sqlalchemy.orm import Session

from server import db
from server.accounts.models import Person
from server.accounts.scope import Scope
from server.devices.models import Device
from server.errors import DomainError
from server.forms import service as forms
from server.sync import queries, records
from sync import cursor as cursors
from sync.records import RECORD_TYPES

PROTOCOL_VERSION = 1


@dataclass(frozen=True)
class Limits:
    max_batch_submissions: int = 500
    max_request_bytes: int = 16 * 1024 * 1024
    max_page_size: int = 1000
    max_attachment_bytes: int = 10 * 1024 * 1024

    def as_dict(self) -> dict:
        return self.__dict__.copy()


# --- manifest ------------------------------------------------------------------------------------

def manifest(session: Session, device: Device, person: Person, scope: Scope, limits: Limits) -> dict:
    villages = queries.villages_with_towns(session, scope)
    return {
        "protocol_version": PROTOCOL_VERSION,
        "server_time": db.now(session),
        "device": {"device_id": str(device.id), "device_name": device.name,
                   "token_expires_at": device.token_expires_at.isoformat()},
        "surveyor": {"id": person.id, "username": person.username, "full_name": person.full_name,
                     "role": person.role, "line": person.line},
        "villages": [{"code": v[0], "name": v[1], "town_code": v[2], "town_name": v[3]} for v in villages],
        "forms": [{"form_id": f.form_id, "version": f.version, "sha256": f.sha256}
                  for f in forms.forms_in_use(session)],
        "limits": limits.as_dict(),
    }


# --- pull ----------------------------------------------------------------------------------------

class RawJson(str):
    """JSON text made by the database, passed through without parsing."""


def _upserts(session: Session, keys: list[tuple[str, uuid.UUID]]) -> dict:
    """Current records as envelope JSON text, by key; keys whose record is gone are left out."""
    out = {}
    for record_type in RECORD_TYPES:
        ids = [k[1] for k in keys if k[0] == record_type]
        if not ids or record_type not in queries.TABLES:
            continue
        for record_id, text in queries.envelopes(session, record_type, ids).items():
            out[(record_type, record_id)] = RawJson(text)
    return out


def _item(change: dict) -> str:
    if change.get("op") == "upsert":
        return '{"op":"upsert","record":' + change["record"] + "}"
    return json.dumps(change, ensure_ascii=False)


def dumps(body: dict) -> str:
    """The changes or repair answer as JSON, with the records' database-made text spliced in."""
    head = {k: v for k, v in body.items() if k != "changes"}
    return ('{"changes":[' + ",".join(_item(c) for c in body["changes"]) + "],"
            + json.dumps(head, ensure_ascii=False)[1:])


def _scope_hash(session: Session, scope_villages: frozenset[str]) -> str:
    """The scope hash: its villages' hashes XORed, as the database keeps them at commit.

    Computed from the records (remembered per scope at its newest change seq) it was most of
    the database's time under bench/load.py: some village of every tablet's scope changes
    between two of its pulls. Now a pull reads one row a village."""
    return queries.combine_hashes(queries.kept_village_hashes(session, sorted(scope_villages)).values())


def cursor_key() -> bytes:
    """The key that signs pull cursors, derived from SECRET_KEY (the same on every web node)."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"notoneless sync cursor v1", hashlib.sha256).digest()


def changes(session: Session, scope_villages: frozenset[str], cursor_text: str | None,
            limit: int) -> dict:
    """One page of changes after the cursor (contract: GET /sync/changes)."""
    try:
        cursor = cursors.Cursor.decode(cursor_text, cursor_key())
    except cursors.InvalidCursor as exc:
        raise DomainError("sync.invalid_cursor") from exc
    plan = cursors.plan(cursor, scope_villages)
    head = queries.head_seq(session)
    items: list[dict] = []
    exit_progress: dict[str, int | None] = {}

    # Villages that left the scope first: every record of theirs leaves the device.
    for village in sorted(plan.exiting):
        room = limit - len(items)
        if room <= 0:
            exit_progress[village] = plan.exiting[village]
            continue
        rows = queries.exit_page(session, village, plan.exiting[village], room + 1)
        page = rows[:room]
        still_here = queries.present_in(session, [(r[0], r[1]) for r in page], sorted(scope_villages))
        items += [{"op": "scope_exit", "type": r[0], "id": str(r[1])} for r in page if (r[0], r[1]) not in still_here]
        exit_progress[village] = page[-1][2] if len(rows) > room else None

    delivered_up_to: int | None = None
    has_more = any(v is not None for v in exit_progress.values())
    room = limit - len(items)
    if room > 0 and not has_more:
        rows = queries.change_page(session, plan.positions, room + 1)
        page = rows[:room]
        has_more = len(rows) > room
        delivered_up_to = page[-1].seq if has_more else head
        upsert_keys = [(r.record_type, r.record_id) for r in page if r.op == "upsert"]
        exit_keys = [(r.record_type, r.record_id) for r in page if r.op == "exit"]
        current = _upserts(session, upsert_keys)
        # A record that moved between two villages the device holds is not exited.
        still_here = queries.present_in(session, exit_keys, sorted(scope_villages))
        for r in page:
            key = (r.record_type, r.record_id)
            if r.op == "upsert" and key in current:
                items.append({"op": "upsert", "record": current[key]})
            elif r.op == "exit" and key not in still_here:
                items.append({"op": "scope_exit", "type": r.record_type, "id": str(r.record_id)})
            elif r.op == "delete":
                items.append({"op": "delete", "type": r.record_type, "id": str(r.record_id),
                              "merged_into": str(r.merged_into) if r.merged_into else None})
    next_cursor = cursors.advance(plan, delivered_up_to, exit_progress)
    return {
        "changes": items,
        "cursor": next_cursor.encode(cursor_key()),
        "has_more": has_more,
        # As of this page's cursor: the pull reads one snapshot (REPEATABLE READ), in which
        # every change up to `head` is committed and nothing after it is visible.
        "scope_hash": None if has_more else _scope_hash(session, scope_villages),
    }


def repair(session: Session, scope_villages: frozenset[str], have: dict[str, int]) -> dict:
    """What makes the device's copy equal to the server's (contract: POST /sync/repair)."""
    server = {(t, i): v for t, i, v in queries.scope_versions(session, sorted(scope_villages))}
    device: dict[tuple[str, uuid.UUID], int] = {}
    for key, version in have.items():
        record_type, _, raw_id = key.partition(":")
        record_id = records.parse_uuid(raw_id)
        if record_type in RECORD_TYPES and record_id is not None:
            device[(record_type, record_id)] = version
    stale = [k for k, v in server.items() if device.get(k) != v]
    gone = [k for k in device if k not in server]
    current = _upserts(session, stale)
    items = [{"op": "upsert", "record": current[k]} for k in stale if k in current]
    tombs = queries.tombstones(session, gone)
    for key in gone:
        tomb = tombs.get(key)
        if tomb is not None:
            items.append({"op": "delete", "type": key[0], "id": str(key[1]),
                          "merged_into": str(tomb.merged_into) if tomb.merged_into else None})
        else:
            items.append({"op": "scope_exit", "type": key[0], "id": str(key[1])})
    head = queries.head_seq(session)
    return {
        "changes": items,
        "scope_hash": _scope_hash(session, scope_villages),
        # Where to pull from next: the repaired copy is the server's as of this snapshot.
        "cursor": cursors.Cursor({v: head for v in scope_villages}).encode(cursor_key()),
    }
