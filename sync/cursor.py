"""The pull cursor: opaque to the device, a small map of positions to the server.

It carries, per village the device holds, the change-log position it has read up to; and, for
villages that left the device's scope, how far their scope exits have been sent. Because the
cursor itself remembers which villages the device has, a village that enters the scope starts
at position 0 (every record of it arrives as an upsert, whatever the cursor) and one that
leaves is noticed (every record of it arrives as scope_exit), with no per-device state on the
server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field

_PREFIX = "c1."


class InvalidCursor(ValueError):
    pass


@dataclass
class Cursor:
    villages: dict[str, int] = field(default_factory=dict)  # village -> change seq read up to
    exiting: dict[str, int] = field(default_factory=dict)  # village -> exit seq sent up to

    def encode(self, key: bytes | None = None) -> str:
        body = json.dumps({"v": self.villages, "x": self.exiting}, sort_keys=True, separators=(",", ":"))
        return _PREFIX + base64.urlsafe_b64encode(f"{_check(body, key)}{body}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str | None, key: bytes | None = None) -> Cursor:
        """Read a cursor; None or "" is the start (the whole scope).

        With a key the check is a MAC: a device cannot write itself a cursor naming villages
        it never held (their records would come back to it as scope exits, ids and all).
        """
        if not text:
            return cls()
        if not text.startswith(_PREFIX):
            raise InvalidCursor("unknown cursor format")
        raw = text[len(_PREFIX):]
        try:
            decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
            size = 8 if key is None else 32
            check, body = decoded[:size], decoded[size:]
            if not hmac.compare_digest(_check(body, key), check):
                raise InvalidCursor("cursor checksum mismatch")
            data = json.loads(body)
            villages = {str(k): int(v) for k, v in data["v"].items()}
            exiting = {str(k): int(v) for k, v in data["x"].items()}
        except InvalidCursor:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
            raise InvalidCursor("cursor cannot be read") from exc
        return cls(villages, exiting)


def _check(body: str, key: bytes | None) -> str:
    """A checksum against corruption; with a key, an HMAC against forgery."""
    if key is None:
        return hashlib.sha256(body.encode()).hexdigest()[:8]
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class PullPlan:
    """What one pull must read: positions per village in scope, and villages to exit."""

    positions: dict[str, int]
    exiting: dict[str, int]
    entered: frozenset[str]


def plan(cursor: Cursor, scope: frozenset[str] | set[str]) -> PullPlan:
    """Compare the villages the cursor knows with the device's scope now."""
    positions = {v: cursor.villages.get(v, 0) for v in scope}
    exiting = dict(cursor.exiting)
    for village in cursor.villages:
        if village not in scope:
            exiting.setdefault(village, 0)
    for village in list(exiting):
        if village in scope:  # came back before its exits were all sent: a fresh start
            del exiting[village]
    entered = frozenset(v for v in scope if v not in cursor.villages)
    return PullPlan(positions, exiting, entered)


def advance(plan_: PullPlan, delivered_up_to: int | None, exit_progress: dict[str, int | None]) -> Cursor:
    """The cursor after a page.

    `delivered_up_to`: the page delivered, in change-seq order, every change with a seq up to
    this in the villages of the plan (the last seq of a full page, or the newest seq of the
    pull's snapshot when the page was not full); None when the page was filled by scope exits
    and no change was read. A village's position never moves backwards. `exit_progress` maps
    an exiting village to the last exit seq sent, or None once all of its exits were sent.
    """
    if delivered_up_to is None:
        villages = dict(plan_.positions)
    else:
        villages = {v: max(p, delivered_up_to) for v, p in plan_.positions.items()}
    exiting = {v: seq for v, seq in exit_progress.items() if seq is not None}
    return Cursor(villages, exiting)
