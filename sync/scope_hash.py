"""The scope hash of the contract: a device can compute it itself and compare."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

EMPTY = "0" * 32


def record_digest(record_type: str, record_id: str, version: int) -> int:
    """The first 16 bytes of sha256("<type>:<id>:<version>"), as an integer to XOR."""
    digest = hashlib.sha256(f"{record_type}:{record_id}:{version}".encode()).digest()
    return int.from_bytes(digest[:16], "big")


def scope_hash(records: Iterable[tuple[str, str, int]]) -> str:
    """XOR of every record's digest, as 32 lowercase hex characters (all zeros when empty).

    XOR makes it independent of order and lets a device update it record by record: XOR the
    old version's digest out and the new one's in.
    """
    acc = 0
    for record_type, record_id, version in records:
        acc ^= record_digest(record_type, str(record_id), version)
    return f"{acc:032x}"
