"""Field states (who wrote each field) between their JSON column and sync.merge's dataclasses."""

from __future__ import annotations

import datetime as dt

from sync.merge import FieldState, Write


def load(data: dict | None) -> dict[str, FieldState]:
    out = {}
    for name, item in (data or {}).items():
        out[name] = FieldState(
            Write(item["v"], item.get("d"), item.get("s"), dt.datetime.fromisoformat(item["t"])),
            dict(item.get("seqs") or {}),
            {d: (v[0], v[1], dt.datetime.fromisoformat(v[2])) for d, v in (item.get("vals") or {}).items()},
            dict(item.get("added") or {}),
        )
    return out


def dump(states: dict[str, FieldState]) -> dict:
    return {
        name: {"v": s.last.version, "d": s.last.device_id, "s": s.last.device_seq,
               "t": s.last.captured_at.isoformat(), "seqs": s.device_seqs,
               "vals": {d: [v[0], v[1], v[2].isoformat()] for d, v in s.device_values.items()},
               "added": s.device_added}
        for name, s in states.items()
    }
