"""Merging two records of one child: the survivor keeps its values, takes the other's where it
had none, and opens a conflict where both had different ones, so no value is lost. The other
becomes a tombstone pointing at the survivor; tablets learn it as a delete with merged_into."""

from __future__ import annotations

import base64
import uuid

from sqlalchemy.orm import Session

from server import db, disclosure
from server.accounts.models import Person
from server.accounts.scope import Scope
from server.audit import service as audit
from server.conflicts import queries as conflict_queries
from server.conflicts.service import Givers, shown_household, shown_place
from server.duplicates import queries
from server.errors import DomainError, FieldError, not_found
from server.people.protection import IdNumberVault, child_subject
from server.records import writer
from server.sync import queries as sync_queries
from server.sync import records
from server.sync.models import DuplicateCandidate, Tombstone

REVIEWERS = ("city", "town_supervisor", "team_leader")
_EMPTY = (None, "", [])


# The fields a supervisor compares before a merge, in the order the child form asks them.
COMPARED = ("name", "gender", "birth_date", "id_number", "ethnicity", "relation_to_head", "guardian_name",
            "guardian_phone", "enrollment_status", "school_name", "grade", "class_name", "dropout_reason",
            "dropout_reason_note", "disability", "disability_type", "disability_level", "left_behind", "migrant",
            "vulnerable_family_types")


class _Context:
    """What a page of pairs shows beside the two children, read once for the page: their
    households, villages, and who recorded each (the tablet's surveyor, team and line)."""

    def __init__(self, session: Session, candidates: list[DuplicateCandidate]):
        ids = [i for c in candidates for i in (c.child_a, c.child_b)]
        self.rows = sync_queries.rows_of(session, "child", ids)
        self.households = sync_queries.rows_of(
            session, "household", [uuid.UUID(str(r["household_id"])) for r in self.rows.values()])
        self.places = conflict_queries.places_of(session, [r["village_code"] for r in self.rows.values()])
        self.created = queries.first_submissions(session, ids)
        self.givers = Givers(session, [d for d, _ in self.created.values()])
        self.deciders = conflict_queries.names_of(session, [c.resolved_by for c in candidates])


def _child_summary(row: dict | None, vault: IdNumberVault, viewer: str, ctx: _Context) -> dict | None:
    if row is None:
        return None
    fields = records.fields_of("child", row)
    cipher = row.get("id_number_cipher")  # to_jsonb's hex form of the bytea
    clear = {**{name: fields.get(name) for name in COMPARED},
             "id_number": vault.decrypt(bytes.fromhex(cipher[2:]), child_subject(row["id"])) if cipher else None}
    shown = disclosure.show(viewer, "child", clear)
    household = ctx.households.get(uuid.UUID(str(row["household_id"])))
    created = ctx.created.get(uuid.UUID(str(row["id"])))
    recorded_by = ({**ctx.givers.of(created[0], row["village_code"]), "captured_at": created[1]}
                   if created else {"source": "roster", "device_name": None, "surveyor": None, "team": None,
                                    "line": None, "captured_at": None})
    return {
        "id": str(row["id"]), "household_id": str(row["household_id"]), "village_code": row["village_code"],
        "version": row["version"], "created_at": row.get("created_at"), "updated_at": row.get("updated_at"),
        **{name: shown.get(name) for name in ("name", "gender", "birth_date", "id_number", "enrollment_status")
           if name in shown},
        "fields": shown,
        "household": shown_household(viewer, household),
        **shown_place(ctx.places, row["village_code"]),
        "recorded_by": recorded_by,
    }


def _differences(a: dict | None, b: dict | None) -> list[str]:
    """The fields where the two records differ, on the stored values (an ID number by its lookup
    hash, so two masked numbers that look alike are still told apart), and `household` when they
    live in different households."""
    if a is None or b is None:
        return []
    mine, theirs = records.fields_of("child", a), records.fields_of("child", b)
    out = [name for name in COMPARED if _comparable(mine.get(name)) != _comparable(theirs.get(name))]
    if str(a["household_id"]) != str(b["household_id"]):
        out.append("household")
    return out


def _comparable(value):
    if value in _EMPTY:
        return None
    return sorted(value) if isinstance(value, list) else value


def describe(session: Session, candidate: DuplicateCandidate, vault: IdNumberVault, viewer: str,
             ctx: _Context | None = None) -> dict:
    ctx = ctx or _Context(session, [candidate])
    a, b = ctx.rows.get(candidate.child_a), ctx.rows.get(candidate.child_b)
    same_number = bool(a and b and a.get("id_number_lookup") and a.get("id_number_lookup") == b.get("id_number_lookup"))
    return {"id": candidate.id, "reason": candidate.reason, "status": candidate.status,
            "outcome": candidate.outcome, "village_code": candidate.village_code, "created_at": candidate.created_at,
            "resolved_at": candidate.resolved_at, "resolved_by_name": ctx.deciders.get(candidate.resolved_by),
            "differences": _differences(a, b), "same_id_number": same_number,
            "children": [_child_summary(a, vault, viewer, ctx), _child_summary(b, vault, viewer, ctx)]}


def flag_possible_duplicates(session: Session, child_ids: list[uuid.UUID]) -> None:
    """Children created on tablets who may already exist: the same ID number, or the same name,
    birth date and household. A supervisor decides (merge or keep both)."""
    rows = queries.possible_duplicates(session, child_ids)
    if not rows:
        return
    candidates = []
    for new_id, other_id, same_number, village_code in rows:
        a, b = sorted([new_id, other_id])
        candidates.append({"child_a": a, "child_b": b, "village_code": village_code,
                           "reason": "same_id_number" if same_number else "same_name_birth_household"})
    queries.add_candidates(session, candidates)


def list_candidates(session: Session, scope: Scope, vault: IdNumberVault, viewer: str, status: str | None,
                    page: int, page_size: int) -> dict:
    total, rows = queries.candidates_page(session, scope, status, (page - 1) * page_size, page_size)
    ctx = _Context(session, rows)
    return {"items": [describe(session, c, vault, viewer, ctx) for c in rows], "total": total, "page": page,
            "page_size": page_size}


def _candidate(session: Session, scope: Scope, candidate_id: int) -> DuplicateCandidate:
    candidate = queries.candidate_for_update(session, scope, candidate_id)
    if candidate is None:
        raise not_found("duplicate candidate")
    if candidate.status != "open":
        raise DomainError("duplicates.already_resolved", "This pair was already decided.", status=409)
    return candidate


def dismiss(session: Session, scope: Scope, vault: IdNumberVault, person: Person, candidate_id: int,
            remote_addr: str | None = None) -> dict:
    """Two different children after all: keep both (on the audit trail, as a merge is)."""
    candidate = _candidate(session, scope, candidate_id)
    candidate.status, candidate.outcome = "resolved", "distinct"
    candidate.resolved_by, candidate.resolved_at = person.id, db.now(session)
    audit.record(session, person.id, "change", "duplicate_candidate", str(candidate.id), remote_addr=remote_addr,
                 outcome="distinct", reason=candidate.reason,
                 children=[str(candidate.child_a), str(candidate.child_b)])
    session.flush()
    return describe(session, candidate, vault, disclosure.viewer_of(person))


def merge(session: Session, scope: Scope, vault: IdNumberVault, person: Person, candidate_id: int,
          survivor_id: uuid.UUID, remote_addr: str | None) -> dict:
    candidate = _candidate(session, scope, candidate_id)
    pair = {candidate.child_a, candidate.child_b}
    if survivor_id not in pair:
        raise DomainError("request.invalid", errors=[FieldError("survivor", "duplicates.not_in_pair",
                                                                "the survivor must be one of the two children")])
    loser_id = (pair - {survivor_id}).pop()
    rows = sync_queries.rows_of(session, "child", pair, for_update=True)
    survivor, loser = rows.get(survivor_id), rows.get(loser_id)
    if survivor is None or loser is None:
        raise not_found("child")
    mine = records.fields_of("child", survivor)
    theirs = records.fields_of("child", loser)
    take: dict = {}
    conflicted = False
    now = db.now(session)
    for name, value in theirs.items():
        if value in _EMPTY or value == mine.get(name):
            continue
        if name == "id_number":
            # Compared by lookup hash; the loser's ciphertext is bound to the loser's row, so
            # it is re-encrypted for the survivor's, never copied.
            number = vault.decrypt(bytes.fromhex(loser["id_number_cipher"][2:]), child_subject(loser_id))
            if mine.get(name) is None:
                take[name] = number  # the writer encrypts it for the survivor's row
                continue
            value = {"value": value, "device_id": None, "captured_at": now.isoformat(),
                     "cipher": base64.b64encode(vault.encrypt(number, child_subject(survivor_id))).decode()}
            ours = {"value": mine[name], "device_id": None, "captured_at": now.isoformat(),
                    "cipher": base64.b64encode(bytes.fromhex(survivor["id_number_cipher"][2:])).decode()}
            conflicted = True
            writer.open_conflict(session, "child", survivor_id, survivor["village_code"], name, [ours, value])
            continue
        if mine.get(name) in _EMPTY:
            take[name] = value
            continue
        values = [{"value": mine[name], "device_id": None, "captured_at": now.isoformat()},
                  {"value": value, "device_id": None, "captured_at": now.isoformat()}]
        conflicted = True
        writer.open_conflict(session, "child", survivor_id, survivor["village_code"], name, values)
    if take or conflicted:  # a new conflict is a new version too: tablets show it on the record
        writer.change(session, vault, person.id, "child", survivor_id, take, current=survivor, new_version=True,
                      remote_addr=remote_addr, merged=str(loser_id), candidate=candidate.id)
    else:
        audit.record(session, person.id, "change", "child", str(survivor_id), remote_addr=remote_addr,
                     merged=str(loser_id), candidate=candidate.id)
    queries.move_to_survivor(session, loser_id, survivor_id, person.id, now)
    session.add(Tombstone(record_type="child", record_id=loser_id, village_code=loser["village_code"],
                          merged_into=survivor_id, deleted_by=person.id))
    session.flush()  # the delete trigger reads the tombstone for merged_into
    queries.close_other_pairs(session, loser_id, candidate.id, person.id, now)
    queries.delete_child(session, loser_id)
    candidate.status, candidate.outcome = "resolved", "merged"
    candidate.resolved_by, candidate.resolved_at = person.id, now
    session.flush()
    return describe(session, candidate, vault, disclosure.viewer_of(person))
