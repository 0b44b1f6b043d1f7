"""The writes a batch has merged, sent in a few bulk statements (triggers keep the history and
the change log)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from server.duplicates import service as duplicates
from server.sync.push import queries

Key = tuple[str, uuid.UUID]


class Replay(Exception):
    """The bulk write could not go through: replay the batch one submission at a time."""


@dataclass
class Writes:
    inserts: list[tuple[str, dict]] = field(default_factory=list)
    updates: dict[Key, list[dict]] = field(default_factory=dict)
    states: dict[Key, dict] = field(default_factory=dict)
    new_conflicts: list[dict] = field(default_factory=list)
    grown_conflicts: dict[uuid.UUID, list] = field(default_factory=dict)
    submissions: list[dict] = field(default_factory=list)
    new_children: list[uuid.UUID] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.inserts or self.updates or self.states or self.new_conflicts or self.grown_conflicts
                    or self.submissions)


def flush(session: Session, writes: Writes) -> None:
    """Send the pending writes in bulk statements; raise Replay on a race with another request."""
    if not writes:
        return
    for record_type, group in _grouped(writes.inserts):
        if queries.insert_records(session, record_type, group) != len(group):
            raise Replay("a concurrent request created one of these records")
    together = len(writes.states) == 1 and len(writes.submissions) == 1  # one submission: one round trip
    edit = None
    if together and not writes.new_conflicts and not writes.grown_conflicts and len(writes.updates) == 1:
        [((record_type, record_id), cols)] = writes.updates.items()
        if len(cols) == 1 and (record_type, record_id) in writes.states:
            edit = (record_id, cols[0])  # written with its field states and its submission
    depth = 0 if edit else max((len(u) for u in writes.updates.values()), default=0)
    for wave in range(depth):  # the k-th update of each record, so each record's order holds
        by_type: dict[str, list[tuple[uuid.UUID, dict]]] = {}
        for (record_type, record_id), cols in writes.updates.items():
            if len(cols) > wave:
                by_type.setdefault(record_type, []).append((record_id, cols[wave]))
        for record_type, pending in by_type.items():
            queries.update_records(session, record_type, pending)
    if writes.states and not together:
        queries.save_field_states(session, writes.states)
    if writes.new_conflicts:
        queries.insert_conflicts(session, writes.new_conflicts)
    for conflict_id, values in writes.grown_conflicts.items():
        queries.grow_conflict(session, conflict_id, values)
    if together:
        [(key, states)] = writes.states.items()
        stored = queries.save_states_and_submission(session, key, states, writes.submissions[0], edit)
    else:
        stored = queries.insert_submissions(session, writes.submissions) if writes.submissions else 0
    if stored != len(writes.submissions):
        # The same submission is being applied by a concurrent request (a retry racing the
        # original): replay; the racer's stored receipt wins.
        raise Replay("a concurrent request stored one of these submissions")
    if writes.new_children:
        duplicates.flag_possible_duplicates(session, writes.new_children)


def _grouped(inserts: list[tuple[str, dict]]):
    groups: dict[tuple[str, frozenset], list[dict]] = {}
    for record_type, columns in inserts:
        groups.setdefault((record_type, frozenset(columns)), []).append(columns)
    for (record_type, _), group in groups.items():
        yield record_type, group
