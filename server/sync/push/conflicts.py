"""Conflict bookkeeping of a batch: open a field's conflict or add values to the open one."""

from __future__ import annotations

import uuid

from server.sync.push.prefetch import Key, Known
from server.sync.push.writes import Writes
from sync import merge as merging
from sync.records import canonical


def keep(known: Known, writes: Writes, key: Key, village_code: str, outcome: merging.FieldOutcome,
         ciphers: dict[str, str]) -> dict:
    """Open (or join) the field's conflict, keeping every value with who and when (guarantee 6).

    A protected value (an ID number's marker) also keeps its ciphertext, bound to this record,
    for the supervisor who decides; tablets and receipts get the marker only."""
    values = []
    for v in outcome.conflict_values:
        value = {"value": v.value, "device_id": v.device_id, "captured_at": v.captured_at.isoformat()}
        if isinstance(v.value, dict) and v.value.get("lookup") in ciphers:
            value["cipher"] = ciphers[v.value["lookup"]]
        values.append(value)
    ckey = (key[0], key[1], outcome.field)
    conflict = known.conflicts.get(ckey)
    if conflict is None:
        conflict = {"id": uuid.uuid4(), "values": values, "village_code": village_code, "new": True}
        known.conflicts[ckey] = conflict
        writes.new_conflicts.append({"id": conflict["id"], "record_type": key[0], "record_id": key[1],
                                     "village_code": village_code, "field": outcome.field, "values": values})
    else:
        seen = {(canonical(v["value"]), v["device_id"]) for v in conflict["values"]}
        added = [v for v in values if (canonical(v["value"]), v["device_id"]) not in seen]
        if added:
            conflict["values"] = conflict["values"] + added
            if conflict["new"]:
                next(c for c in writes.new_conflicts if c["id"] == conflict["id"])["values"] = conflict["values"]
            else:
                writes.grown_conflicts[conflict["id"]] = conflict["values"]
    return {"conflict_id": str(conflict["id"]), "field": outcome.field, "values": conflict["values"]}
