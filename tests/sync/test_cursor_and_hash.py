"""Cursors and the scope hash: opaque but exact, and computable by a device."""

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.cursor import Cursor, InvalidCursor, advance, plan
from sync.scope_hash import EMPTY, scope_hash


def test_scope_hash_follows_the_contract_recipe():
    digest = hashlib.sha256(b"child:0b6c:7").digest()[:16]
    assert scope_hash([("child", "0b6c", 7)]) == digest.hex()
    assert scope_hash([]) == EMPTY == "0" * 32


@given(st.lists(st.tuples(st.sampled_from(["household", "child"]), st.uuids().map(str), st.integers(1, 50)),
                unique_by=lambda r: (r[0], r[1])), st.randoms())
def test_scope_hash_ignores_order_and_updates_incrementally(records, rnd):
    shuffled = list(records)
    rnd.shuffle(shuffled)
    assert scope_hash(records) == scope_hash(shuffled)
    if records:
        t, i, v = records[0]
        bumped = [(t, i, v + 1)] + records[1:]
        incremental = int(scope_hash(records), 16) ^ int(scope_hash([(t, i, v)]), 16) ^ int(scope_hash([(t, i, v + 1)]), 16)
        assert f"{incremental:032x}" == scope_hash(bumped)


def test_cursor_round_trips_and_refuses_garbage():
    cursor = Cursor({"320685100201": 42, "320685100202": 7}, {"320685100203": 3})
    assert Cursor.decode(cursor.encode()) == cursor
    assert Cursor.decode(None) == Cursor() == Cursor.decode("")
    for bad in ["nonsense", "c1.", "c1.abc", cursor.encode()[:-2] + "xx"]:
        with pytest.raises(InvalidCursor):
            Cursor.decode(bad)


def test_a_village_entering_the_scope_starts_from_zero():
    p = plan(Cursor({"A": 100}), frozenset({"A", "B"}))
    assert p.positions == {"A": 100, "B": 0} and p.entered == {"B"} and p.exiting == {}


def test_a_village_leaving_the_scope_is_exited_then_forgotten():
    p = plan(Cursor({"A": 100, "B": 50}), frozenset({"A"}))
    assert p.exiting == {"B": 0}
    after = advance(p, 120, {"B": 17})
    assert after.villages == {"A": 120} and after.exiting == {"B": 17}
    p2 = plan(after, frozenset({"A"}))
    assert p2.exiting == {"B": 17}
    done = advance(p2, 130, {"B": None})
    assert done.exiting == {} and done.villages == {"A": 130}


def test_a_village_that_comes_back_starts_again():
    p = plan(Cursor({"A": 100}, {"B": 17}), frozenset({"A", "B"}))
    assert p.exiting == {} and p.positions == {"A": 100, "B": 0}


def test_positions_never_move_backwards_and_exit_only_pages_keep_them():
    p = plan(Cursor({"A": 100, "B": 0}), frozenset({"A", "B"}))
    assert advance(p, 60, {}).villages == {"A": 100, "B": 60}
    assert advance(p, None, {}).villages == {"A": 100, "B": 0}


def test_a_keyed_cursor_cannot_be_forged():
    """A device that writes itself a cursor naming villages it never held gets nothing from it."""
    key = b"k" * 32
    cursor = Cursor({"320685100201": 42}, {})
    assert Cursor.decode(cursor.encode(key), key) == cursor
    forged = Cursor({"320685100201": 42, "320685999999": 0}, {})
    for text in (forged.encode(), forged.encode(b"other key" * 4)):
        with pytest.raises(InvalidCursor):
            Cursor.decode(text, key)
