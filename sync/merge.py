"""Field-level merge of one device edit into a record (contract guarantees 5, 6 and 7).

The server keeps, for every field of a record, who wrote its current value (device, that
device's `device_seq`, capture time, record version) and the newest `device_seq` each device
has had applied or refused for it. With that, one edit merges field by field:

1. A field the device did not change (equal to its value at the device's `base_version`) is
   not an edit at all: a device that re-sends its whole copy overwrites nothing.
2. A device never conflicts with itself: an edit older (lower `device_seq`) than one the same
   device already had applied to the field is stale and ignored, whatever order they arrived
   in; a newer one simply applies.
3. A field nobody else wrote since the device's `base_version` takes the device's value.
4. Both sides wrote the same value: nothing to do, and no conflict.
5. Another writer changed the field since the device's base, to a different value: the
   field's merge policy decides (latest / monotonic / union / manual). `latest` and `manual`
   keep a conflict for a supervisor with every value; `monotonic` and `union` auto-merge.

Scenario behind rule 2: a teacher edits a child twice while offline (seq 7 "dropped_out",
seq 9 "enrolled"); the tablet's retry sends seq 9 first and seq 7 an hour later. Without the
per-device ordering, seq 7 would overwrite the newer answer, or be flagged as a conflict of
the teacher with herself.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace
from typing import Any

POLICIES = ("latest", "monotonic", "union", "manual", "on_file")
# `on_file` is not a form's to declare: the server gives it to a protected field (the ID number),
# whose device never receives the value and so has no base to compare with (see _merge_on_file).


@dataclass(frozen=True)
class Policy:
    kind: str = "latest"
    order: tuple = ()  # monotonic: the values from lowest to highest; union: display order

    def __post_init__(self):
        if self.kind not in POLICIES:
            raise ValueError(f"unknown merge policy {self.kind!r}")


DEFAULT_POLICY = Policy()
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Write:
    """Who set a field's current value: a device (with its seq) or the server (device None)."""

    version: int
    device_id: str | None
    device_seq: int | None
    captured_at: dt.datetime


@dataclass(frozen=True)
class FieldState:
    last: Write
    device_seqs: dict[str, int] = field(default_factory=dict)
    # What each device last said the field is (canonical JSON) and at which record version, at
    # its newest seq. It tells a device's correction back to the base value from a copy merely
    # sent again; and it tells who stands behind the current value: two devices that wrote the
    # same value each stand behind it, so either one changing it later is concurrent with the
    # other (and which of them happened to write first does not matter).
    device_values: dict[str, tuple[str, int, dt.datetime]] = field(default_factory=dict)
    # `union` only: the ticks each device's newest word added to its base (canonical JSON).
    device_added: dict[str, str] = field(default_factory=dict)

    def seen(self, device_id: str, device_seq: int, value, version: int, captured_at: dt.datetime) -> FieldState:
        if device_seq < self.device_seqs.get(device_id, device_seq):
            return self
        return replace(self, device_seqs={**self.device_seqs, device_id: device_seq},
                       device_values={**self.device_values,
                                      device_id: (_canonical(value), version, captured_at)})

    def said(self, device_id: str) -> str | None:
        """What this device last said the field is (canonical JSON), if anything."""
        entry = self.device_values.get(device_id)
        return entry[0] if entry else None


@dataclass(frozen=True)
class Edit:
    device_id: str
    device_seq: int
    captured_at: dt.datetime  # already clamped to the server's receive time
    base_version: int | None  # None or 0: the device had no server version of the record
    fields: dict[str, Any]
    base_fields: dict[str, Any] | None = None  # the record's fields at base_version, if known


@dataclass(frozen=True)
class ConflictValue:
    value: Any
    device_id: str | None
    captured_at: dt.datetime
    device_seq: int | None = None


@dataclass(frozen=True)
class FieldOutcome:
    field: str
    kind: str  # applied, unchanged, not_edited, stale, auto_merged, conflict
    value: Any  # the field's value on the record after the merge
    conflict_values: tuple[ConflictValue, ...] = ()


@dataclass(frozen=True)
class MergeResult:
    version: int  # the record's version after the merge
    changed_fields: dict[str, Any]
    field_states: dict[str, FieldState]  # every state that changed
    outcomes: tuple[FieldOutcome, ...]

    @property
    def changed(self) -> bool:
        return bool(self.changed_fields)

    @property
    def status(self) -> str:
        kinds = {o.kind for o in self.outcomes}
        if "conflict" in kinds:
            return "conflict"
        if "auto_merged" in kinds:
            return "merged"
        return "applied"

    @property
    def conflicts(self) -> list[FieldOutcome]:
        return [o for o in self.outcomes if o.kind == "conflict"]


def clamp(captured_at: dt.datetime, received_at: dt.datetime) -> dt.datetime:
    """A device clock ahead of the server's cannot win `latest` by being wrong."""
    return min(captured_at, received_at)


def _rank(policy: Policy, value) -> int:
    try:
        return policy.order.index(value)
    except ValueError:
        return -1


def _ordered(policy: Policy, items) -> list:
    items = list(dict.fromkeys(items))
    if policy.order:
        return sorted(items, key=lambda v: (_rank(policy, v) < 0, _rank(policy, v), str(v)))
    return sorted(items, key=str)


def _merge_set(name, policy, ours, value, edit, state, base, writer, changed, new_states) -> FieldOutcome:
    """`union`: apply what the device added and removed relative to its base, to the current set.

    Scenario: the village cadre ticks 贫困 while the teacher ticks 单亲 for the same family;
    both are kept. A tick a device removes (present in its base, absent from its value) is
    removed; a tick it never saw is never removed, so no concurrent addition is lost, and the
    result is the same in every arrival order.
    """
    ours_set = list(ours or [])
    base_value = (edit.base_fields or {}).get(name)
    base_set = set(base_value or []) if edit.base_fields is not None and name in edit.base_fields else set()
    value_set = list(value or [])
    concurrent = state.last.version > base and state.last.device_id != edit.device_id
    # What this device had said before is its own base for this edit, while the edit is based
    # on a version older than that word (edits made offline one after the other): a tick it
    # added and then took back before syncing is taken back, in whatever order the two arrive.
    # A device that has since pulled the version its word made (or a later one) edits what it
    # pulled: its base says what it saw, others' changes since its word included.
    word = state.device_values.get(edit.device_id)
    if word is not None and word[1] > base:
        previous = set(json.loads(word[0]) or [])
    else:
        previous = base_set
    added = [v for v in value_set if v not in previous]
    # Add wins: a tick another device set concurrently (after this device's base) stays, even
    # if this device took its own tick of the same choice back.
    kept_by_others = set()
    for device, (_, at, _) in state.device_values.items():
        if device != edit.device_id and at > base and device in state.device_added:
            kept_by_others |= set(json.loads(state.device_added[device]))
    removed = (previous - set(value_set)) - kept_by_others
    result = _ordered(policy, [v for v in ours_set if v not in removed] + added)
    if result != ours:
        changed[name] = result
        recorded = FieldState(writer, state.device_seqs, state.device_values, state.device_added).seen(
            edit.device_id, edit.device_seq, value, writer.version, edit.captured_at)
    else:
        recorded = state.seen(edit.device_id, edit.device_seq, value, state.last.version, edit.captured_at)
    if recorded is not state:
        recorded = replace(recorded, device_added={
            **recorded.device_added, edit.device_id: _canonical(sorted(set(value_set) - base_set, key=str))})
    new_states[name] = recorded
    kind = "auto_merged" if concurrent and result != _ordered(policy, value_set) else "applied"
    return FieldOutcome(name, kind, result)


def _merge_on_file(name, ours, value, edit, state, writer, changed, new_states) -> FieldOutcome:
    """`on_file`: a typed value never replaces one on file written by someone else.

    Scenario: the roster holds a child's ID number; a surveyor types the number from the
    household register (户口簿) and it differs. The device was never sent the number, so it
    cannot have based its edit on it: it is a mismatch for a supervisor, whatever the base
    version says. A number the same device typed is its own to correct (a device never
    conflicts with itself), unless another device has since typed that number too.
    """
    if value is None:  # nothing typed: a device cannot erase what it never saw
        return FieldOutcome(name, "not_edited", ours)
    if value == ours:
        new_states[name] = state.seen(edit.device_id, edit.device_seq, value, state.last.version, edit.captured_at)
        return FieldOutcome(name, "unchanged", ours)
    others = [d for d, (said, _, _) in state.device_values.items()
              if d != edit.device_id and said == _canonical(ours)]
    if ours is None or (state.last.device_id == edit.device_id and not others):
        changed[name] = value
        new_states[name] = FieldState(writer, state.device_seqs, state.device_values, state.device_added).seen(
            edit.device_id, edit.device_seq, value, writer.version, edit.captured_at)
        return FieldOutcome(name, "applied", value)
    last = state.last
    theirs = ConflictValue(ours, last.device_id, last.captured_at, last.device_seq)
    mine = ConflictValue(value, edit.device_id, edit.captured_at, edit.device_seq)
    new_states[name] = state.seen(edit.device_id, edit.device_seq, value, state.last.version, edit.captured_at)
    return FieldOutcome(name, "conflict", ours, (theirs, mine))


def _later(edit: Edit, value, theirs: dt.datetime, ours) -> bool:
    """Does the edit's value win `latest` against the current one (captured at `theirs`)? Equal
    capture times go to the larger value (in canonical JSON): every arrival order agrees."""
    if edit.captured_at != theirs:
        return edit.captured_at > theirs
    return _canonical(value) > _canonical(ours)


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def merge(current: dict[str, Any], states: dict[str, FieldState], version: int, edit: Edit,
          policies: dict[str, Policy]) -> MergeResult:
    """Merge `edit` into a record at `version` with field values `current` (version 0: new)."""
    new_version = version + 1
    base = edit.base_version or 0
    writer = Write(new_version, edit.device_id, edit.device_seq, edit.captured_at)
    outcomes: list[FieldOutcome] = []
    changed: dict[str, Any] = {}
    new_states: dict[str, FieldState] = {}

    for name, value in edit.fields.items():
        policy = policies.get(name, DEFAULT_POLICY)
        known = states.get(name)
        # A field the server set without sync bookkeeping (an import, a migration) counts as
        # written by the server at version 0: it changed since the device's base only if its
        # value differs from the base's.
        state = known or FieldState(Write(0, None, None, EPOCH))
        ours = current.get(name)
        seen = state.device_seqs.get(edit.device_id)
        # Under `monotonic` the result is a max, which does not depend on order, so even a late,
        # older edit of the same device takes part; the other policies drop it.
        if seen is not None and edit.device_seq <= seen and policy.kind != "monotonic":
            outcomes.append(FieldOutcome(name, "stale", ours))
            continue
        if policy.kind == "on_file":
            outcomes.append(_merge_on_file(name, ours, value, edit, state, writer, changed, new_states))
            continue
        if (edit.base_fields is not None and name in edit.base_fields and edit.base_fields[name] == value
                and (state.said(edit.device_id) or _canonical(value)) == _canonical(value)):
            # Equal to the base, and this device never said otherwise: not an edit. (After the
            # device wrote another value, the base value again is its correction, and counts.)
            # Its seq is kept, so an older edit of this device arriving later is stale.
            new_states[name] = state.seen(
                edit.device_id, edit.device_seq, value, state.last.version, edit.captured_at)
            outcomes.append(FieldOutcome(name, "not_edited", ours))
            continue
        if policy.kind == "union":
            outcomes.append(_merge_set(name, policy, ours, value, edit, state, base, writer,
                                       changed, new_states))
            continue
        if name in current and value == ours:
            # The same value again: no conflict. The device now stands behind the value too
            # (its capture time counts for `latest`), but the field stays the first writer's:
            # this device did not see that write, so its next value is still concurrent.
            new_states[name] = state.seen(
                edit.device_id, edit.device_seq, value, state.last.version, edit.captured_at)
            outcomes.append(FieldOutcome(name, "unchanged", ours))
            continue
        if state.last.version > 0:
            changed_since_base = state.last.version > base
        elif edit.base_fields is not None and name in edit.base_fields:
            changed_since_base = ours != edit.base_fields[name]
        else:
            changed_since_base = False
        if (policy.kind == "monotonic" and name in current
                and _rank(policy, value) < _rank(policy, ours)):
            # An ordered status never moves backwards, concurrent or not: a tablet that
            # missed the supervisor's "confirmed" cannot undo it with "visited".
            new_states[name] = state.seen(
                edit.device_id, edit.device_seq, value, state.last.version, edit.captured_at)
            outcomes.append(FieldOutcome(name, "auto_merged", ours))
            continue
        # Who stands behind the current value, unseen by this device: every other device whose
        # newest word (after this device's base) is that value; and the last writer when it is
        # the server, or a device with no word on record. A device that has since said
        # something else no longer counts.
        behind_ours = [(d, when) for d, (said, at, when) in state.device_values.items()
                       if d != edit.device_id and at > base and said == _canonical(ours)]
        last = state.last
        if (changed_since_base and last.device_id != edit.device_id
                and (last.device_id is None or last.device_id not in state.device_values)):
            behind_ours.append((last.device_id, last.captured_at))
        if not behind_ours:
            changed[name] = value
            new_states[name] = FieldState(writer, state.device_seqs, state.device_values, state.device_added).seen(
                edit.device_id, edit.device_seq, value, writer.version, edit.captured_at)
            outcomes.append(FieldOutcome(name, "applied", value))
            continue

        their_device, their_time = max(behind_ours, key=lambda item: (item[1], item[0] or ""))
        theirs = ConflictValue(ours, their_device, their_time,
                               last.device_seq if their_device == last.device_id else None)
        mine = ConflictValue(value, edit.device_id, edit.captured_at, edit.device_seq)
        if policy.kind == "monotonic":
            result = value if _rank(policy, value) > _rank(policy, ours) else ours
            kind = "auto_merged"
            conflict_values: tuple[ConflictValue, ...] = ()
        elif policy.kind == "latest":
            # Against the latest capture of the current value by anyone but this device.
            result = value if _later(edit, value, their_time, ours) else ours
            kind = "conflict"
            conflict_values = (theirs, mine)
        else:  # manual: the server's value stays until a supervisor decides
            result = ours
            kind = "conflict"
            conflict_values = (theirs, mine)
        if result != ours:
            changed[name] = result
            new_states[name] = FieldState(writer, state.device_seqs, state.device_values, state.device_added).seen(
                edit.device_id, edit.device_seq, value, writer.version, edit.captured_at)
        else:
            new_states[name] = state.seen(
                edit.device_id, edit.device_seq, value, state.last.version, edit.captured_at)
        outcomes.append(FieldOutcome(name, kind, result, conflict_values))

    return MergeResult(new_version if changed else version, changed, new_states, tuple(outcomes))


def server_write(states: dict[str, FieldState], fields: dict[str, Any], version: int,
                 at: dt.datetime) -> dict[str, FieldState]:
    """The field states after the server itself (an import, a supervisor) set `fields`."""
    out = {}
    for name in fields:
        previous = states.get(name)
        out[name] = FieldState(Write(version, None, None, at), previous.device_seqs if previous else {},
                               previous.device_values if previous else {},
                               previous.device_added if previous else {})
    return out
