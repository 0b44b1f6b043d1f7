"""What a batch reads before it merges, in a handful of queries, and the records it locks.

The records a batch writes are locked FOR UPDATE in id order (no deadlocks between batches);
the records they point at (a child's household, a visit's child) are read without a lock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from server.attachments import queries as attachment_queries
from server.sync import queries, records
from server.sync.push.envelope import Refusal

Key = tuple[str, uuid.UUID]


@dataclass
class Known:
    """The batch's view of its records: read once, then kept as its merges leave them."""

    rows: dict[Key, dict] = field(default_factory=dict)
    field_states: dict[Key, dict] = field(default_factory=dict)
    tombstones: dict[Key, uuid.UUID | None] = field(default_factory=dict)
    base_rows: dict[tuple[str, uuid.UUID, int], dict] = field(default_factory=dict)
    # (type, id, field) -> {"id", "values", "village_code", "new"}: open conflicts, and new ones
    conflicts: dict[tuple[str, uuid.UUID, str], dict] = field(default_factory=dict)
    attachments: set[tuple[str, str]] = field(default_factory=set)  # (sha256, village) a village's tablet sent

    def snapshot(self) -> tuple:
        return dict(self.rows), dict(self.field_states), {k: dict(v) for k, v in self.conflicts.items()}

    def restore(self, snapshot: tuple) -> None:
        self.rows, self.field_states, self.conflicts = snapshot

    def forget_writes(self) -> None:
        """After a rolled-back bulk write: what the batch had merged is no longer true."""
        self.rows, self.field_states, self.conflicts = {}, {}, {}


@dataclass(frozen=True)
class Stored:
    """A submission stored already: what its content was and what it was answered."""

    content_sha256: str
    receipt: dict


def prefetch(session: Session, known: Known, items: list[tuple[dict, dict]],
             submission_ids: list[uuid.UUID] | None = None) -> tuple[dict[uuid.UUID, Stored], str | None]:
    """Read what the batch needs in two queries (three with attachments); lock its records (in
    id order): the records, their tombstones and references first, then their field states,
    open conflicts and base versions. With `submission_ids`, the first query also tells which
    of them are stored already and the form catalogue's digest (returned; else ({}, None))."""
    stored: dict[uuid.UUID, Stored] = {}
    digest = None
    wanted: dict[str, set] = {}
    refs: dict[str, set] = {}
    for _, record in items:
        record_type = record["type"]
        if record_type not in queries.TABLES:
            continue
        wanted.setdefault(record_type, set()).add(records.parse_uuid(record["id"]))
        if record_type == "child" and records.parse_uuid(record.get("household_id")):
            refs.setdefault("household", set()).add(records.parse_uuid(record["household_id"]))
        if record_type == "visit" and records.parse_uuid(record.get("child_id")):
            refs.setdefault("child", set()).add(records.parse_uuid(record["child_id"]))
    if wanted or refs:
        for part, record_type, record_id, value in queries.lock_records(session, wanted, refs, submission_ids):
            if part == "tombstone":
                known.tombstones[(record_type, record_id)] = uuid.UUID(value) if value else None
            elif part == "stored":
                stored[record_id] = Stored(record_type, value)
            elif part == "forms":
                digest = record_type
            else:
                known.rows[(record_type, record_id)] = value
    elif submission_ids is not None:
        rows, digest = queries.submissions_by_id(session, submission_ids)
        stored = {sid: Stored(row.content_sha256, row.receipt) for sid, row in rows.items()}
    if stored:
        # answered already: merged against nothing
        items = [(s, r) for s, r in items if records.parse_uuid(s.get("submission_id")) not in stored]
        if not items:
            return stored, digest  # a re-send only: nothing to merge, nothing more to read
    keys = list(known.rows)
    bases = []
    for _, record in items:
        record_id = records.parse_uuid(record["id"])
        if record.get("base_version") and (record["type"], record_id) in known.rows:
            bases.append((record["type"], record_id, record["base_version"]))
    states, conflicts, base_rows = queries.record_context(session, keys, bases)
    known.field_states.update(states)
    known.base_rows.update(base_rows)
    for c in conflicts:
        known.conflicts[(c["record_type"], c["record_id"], c["field"])] = {
            "id": c["id"], "values": list(c["values"]), "village_code": c["village_code"], "new": False}
    hashes = {a.removeprefix("sha256:") for s, _ in items for a in (s.get("attachments") or [])}
    if hashes:
        # (sha256, village): a file counts for a record only when a tablet of its village sent it.
        known.attachments = attachment_queries.uploaded_by_village_tablets(
            session, hashes, {row["village_code"] for row in known.rows.values() if row}
            | {r.get("village_code") for _, r in items if isinstance(r.get("village_code"), str)})
    return stored, digest


def current(session: Session, known: Known, key: Key) -> dict | None:
    """The record's row, locked; read now if the prefetch did not know the record yet."""
    row = known.rows.get(key)
    if row is None and key not in known.rows:
        row = queries.rows_of(session, key[0], [key[1]], for_update=True).get(key[1])
        if row is not None:
            known.rows[key] = row
            known.field_states.update(queries.field_states(session, [key]))
    return row


def survivor(known: Known, record_type: str, record_id: uuid.UUID) -> uuid.UUID:
    seen = set()
    while (record_type, record_id) in known.tombstones:
        if record_id in seen:
            break
        seen.add(record_id)
        merged_into = known.tombstones[(record_type, record_id)]
        if merged_into is None:
            raise Refusal("sync.record_deleted", "the server deleted this record", "record.id")
        # Merged duplicates: an edit made on the losing copy goes to the surviving record.
        record_id = merged_into
    return record_id


def reference(session: Session, known: Known, record_type: str, raw, name: str) -> dict:
    """The record a submission points at (its household, its child), or a refusal to send later."""
    ref_id = records.parse_uuid(raw)
    if ref_id is None:
        raise Refusal("sync.invalid_submission", f"{name} must be a UUID", name)
    ref_id = survivor(known, record_type, ref_id)
    row = known.rows.get((record_type, ref_id))
    if row is None:
        row = queries.rows_of(session, record_type, [ref_id]).get(ref_id)
        if row is None:
            raise Refusal("sync.unknown_reference",
                          f"no {record_type} {ref_id} on the server yet; send this again after it arrives", name)
        known.rows[(record_type, ref_id)] = row
    return row
