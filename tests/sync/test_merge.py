"""The merge rules, table-driven from the contract's scenarios, plus order-independence."""

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.merge import Edit, FieldState, Policy, Write, clamp, merge

T0 = dt.datetime(2027, 5, 28, 9, 0, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


POLICIES = {
    "enrollment_status": Policy("latest"),
    "survey_status": Policy("monotonic", ("not_visited", "visited", "confirmed")),
    "vulnerable_family_types": Policy("union"),
    "id_number": Policy("manual"),
}


class Record:
    """A record on the server, as the server layer keeps it, for driving merge() in tests."""

    def __init__(self, fields=None, version=1):
        self.fields = dict(fields or {})
        self.states: dict[str, FieldState] = {}
        self.version = version if fields else 0
        self.history = {self.version: dict(self.fields)}

    def push(self, device, seq, minutes, base_version, **fields):
        edit = Edit(device, seq, at(minutes), base_version, fields, self.history.get(base_version))
        result = merge(self.fields, self.states, self.version, edit, POLICIES)
        self.fields.update(result.changed_fields)
        self.states.update(result.field_states)
        self.version = result.version
        self.history[self.version] = dict(self.fields)
        return result


def test_two_lines_visit_one_household_and_edit_different_fields():
    # The village cadre records the phone; the teacher records the family type: both kept.
    hh = Record({"phone": None, "vulnerable_family_types": [], "head_name": "王强"})
    a = hh.push("cadre-tablet", 1, 10, 1, phone="13800000000", vulnerable_family_types=[], head_name="王强")
    b = hh.push("teacher-tablet", 1, 20, 1, phone=None, vulnerable_family_types=["poor"], head_name="王强")
    assert (a.status, b.status) == ("applied", "applied")
    assert hh.fields == {"phone": "13800000000", "vulnerable_family_types": ["poor"], "head_name": "王强"}
    assert hh.version == 3


def test_identical_edits_are_not_a_conflict():
    child = Record({"enrollment_status": "suspected_out_of_school"})
    child.push("a", 1, 10, 1, enrollment_status="dropped_out")
    result = child.push("b", 1, 12, 1, enrollment_status="dropped_out")
    assert result.status == "applied" and result.conflicts == [] and not result.changed


def test_different_values_on_both_sides_keep_a_conflict_and_latest_wins_provisionally():
    child = Record({"enrollment_status": "suspected_out_of_school"})
    child.push("a", 1, 30, 1, enrollment_status="dropped_out")
    result = child.push("b", 1, 10, 1, enrollment_status="enrolled")  # captured earlier
    assert result.status == "conflict"
    assert child.fields["enrollment_status"] == "dropped_out"
    values = {(v.value, v.device_id) for v in result.conflicts[0].conflict_values}
    assert values == {("dropped_out", "a"), ("enrolled", "b")}


def test_latest_is_order_independent():
    orders = []
    for first, second in (("a", "b"), ("b", "a")):
        child = Record({"enrollment_status": "suspected_out_of_school"})
        edits = {"a": (30, "dropped_out"), "b": (10, "enrolled")}
        for device in (first, second):
            minutes, value = edits[device]
            child.push(device, 1, minutes, 1, enrollment_status=value)
        orders.append(child.fields["enrollment_status"])
    assert orders == ["dropped_out", "dropped_out"]


def test_a_device_editing_one_record_twice_offline_never_conflicts_with_itself():
    child = Record({"enrollment_status": "suspected_out_of_school"})
    newer = child.push("a", 9, 50, 1, enrollment_status="enrolled")
    older = child.push("a", 7, 40, 1, enrollment_status="dropped_out")  # arrives late
    assert newer.status == "applied"
    assert older.status == "applied" and older.outcomes[0].kind == "stale"
    assert child.fields["enrollment_status"] == "enrolled"


def test_a_device_newer_edit_after_its_older_one_applies():
    child = Record({"enrollment_status": "suspected_out_of_school"})
    child.push("a", 7, 40, 1, enrollment_status="dropped_out")
    result = child.push("a", 9, 50, 1, enrollment_status="enrolled")
    assert result.status == "applied" and child.fields["enrollment_status"] == "enrolled"


def test_a_stale_edit_of_one_field_still_applies_its_other_fields():
    child = Record({"enrollment_status": "suspected_out_of_school", "grade": None})
    child.push("a", 9, 50, 1, enrollment_status="enrolled")
    child.push("a", 7, 40, 1, enrollment_status="dropped_out", grade=5)
    assert child.fields == {"enrollment_status": "enrolled", "grade": 5}


def test_a_new_childs_second_edit_may_arrive_before_its_first():
    child = Record()
    second = child.push("a", 2, 20, None, name="李明", grade=4)
    first = child.push("a", 1, 10, None, name="李明明", gender="M", grade=3)
    assert second.version == 1 and second.status == "applied"
    assert child.fields == {"name": "李明", "grade": 4, "gender": "M"}
    assert first.status == "applied"


def test_fields_equal_to_the_base_are_not_edits():
    # A tablet that sends its whole copy back overwrites nothing it did not touch.
    child = Record({"enrollment_status": "suspected_out_of_school", "grade": None})
    child.push("a", 1, 10, 1, grade=6)
    result = child.push("b", 1, 20, 1, enrollment_status="dropped_out", grade=None)
    assert child.fields == {"enrollment_status": "dropped_out", "grade": 6}
    assert result.status == "applied"


def test_monotonic_never_moves_backwards_and_auto_merges():
    hh = Record({"survey_status": "not_visited"})
    hh.push("a", 1, 10, 1, survey_status="confirmed")
    result = hh.push("b", 1, 20, 1, survey_status="visited")
    assert result.status == "merged" and hh.fields["survey_status"] == "confirmed"
    # even an edit based on the current version cannot move it back
    later = hh.push("b", 2, 30, hh.version, survey_status="visited")
    assert hh.fields["survey_status"] == "confirmed" and later.status == "merged"


def test_union_unites_concurrent_sets():
    hh = Record({"vulnerable_family_types": []})
    hh.push("a", 1, 10, 1, vulnerable_family_types=["poor"])
    result = hh.push("b", 1, 20, 1, vulnerable_family_types=["single_parent"])
    assert result.status == "merged"
    assert sorted(hh.fields["vulnerable_family_types"]) == ["poor", "single_parent"]


def test_union_without_concurrency_lets_a_device_remove_a_choice():
    hh = Record({"vulnerable_family_types": ["poor", "single_parent"]})
    hh.push("a", 1, 10, 1, vulnerable_family_types=["poor"])
    assert hh.fields["vulnerable_family_types"] == ["poor"]


def test_union_a_device_that_pulled_since_its_last_word_removes_from_what_it_pulled():
    """Found by the convergence property (tests/sync_e2e): a device's earlier word stood in for
    its base even after it had pulled a newer version, so a tick it then took away, seen in
    what it pulled, stayed on the record."""
    hh = Record({"vulnerable_family_types": []})
    hh.push("b", 1, 10, 1, vulnerable_family_types=["single_parent"])  # v2
    hh.push("a", 1, 20, 1, vulnerable_family_types=["parents_away"])  # v3: both ticks
    assert hh.fields["vulnerable_family_types"] == ["parents_away", "single_parent"]
    hh.push("c", 1, 30, hh.version, vulnerable_family_types=["single_parent"])  # c takes parents_away back
    assert hh.fields["vulnerable_family_types"] == ["single_parent"]
    # a pulls that version, then takes single_parent away: nobody added it since a's base
    removal = hh.push("a", 2, 40, hh.version, vulnerable_family_types=[])
    assert hh.fields["vulnerable_family_types"] == [], removal
    assert removal.status == "applied"


def test_union_offline_edits_of_one_device_still_take_back_their_own_tick():
    # The rule the fix keeps: without a pull in between, a device's earlier word is its base.
    hh = Record({"vulnerable_family_types": ["poor"]})
    hh.push("a", 1, 10, 1, vulnerable_family_types=["poor", "single_parent"])
    hh.push("a", 2, 20, 1, vulnerable_family_types=["poor"])  # same base: took its tick back
    assert hh.fields["vulnerable_family_types"] == ["poor"]


def test_manual_keeps_the_server_value_until_a_supervisor_decides():
    child = Record({"id_number": None})
    child.push("a", 1, 10, 1, id_number="X1")
    result = child.push("b", 1, 20, 1, id_number="X2")
    assert result.status == "conflict" and child.fields["id_number"] == "X1"


def test_an_edit_made_after_seeing_the_other_value_is_not_concurrent():
    child = Record({"enrollment_status": "suspected_out_of_school"})
    child.push("a", 1, 30, 1, enrollment_status="dropped_out")
    seen = child.version
    result = child.push("b", 1, 10, seen, enrollment_status="enrolled")  # clock behind, but causal
    assert result.status == "applied" and child.fields["enrollment_status"] == "enrolled"


def test_a_server_side_change_since_the_base_is_detected_by_value():
    # An import changed the school after the tablet pulled version 1: that is concurrent too.
    child = Record({"school_name": "甲小学"})
    child.fields["school_name"] = "乙小学"
    child.version = 2
    child.history[2] = dict(child.fields)
    result = child.push("a", 1, 10, 1, school_name="丙小学")
    assert result.status == "conflict"


def test_device_clocks_are_clamped_to_the_receive_time():
    received = at(5)
    assert clamp(at(60), received) == received
    assert clamp(at(1), received) == at(1)


def test_unknown_policy_is_refused():
    with pytest.raises(ValueError):
        Policy("random")


def test_write_records_who_wrote():
    child = Record({"grade": 1})
    child.push("a", 3, 10, 1, grade=2)
    state = child.states["grade"]
    assert state.last == Write(2, "a", 3, at(10)) and state.device_seqs == {"a": 3}


# --- order independence ------------------------------------------------------------------------

VALUES = {
    "enrollment_status": st.sampled_from(["enrolled", "dropped_out", "never_enrolled"]),
    "survey_status": st.sampled_from(["not_visited", "visited", "confirmed"]),
    "vulnerable_family_types": st.lists(st.sampled_from(["poor", "single_parent", "parents_away"]),
                                        unique=True, max_size=2).map(sorted),
}


@st.composite
def offline_edits(draw):
    """Edits made offline from version 1 by 2-4 devices, each with its own increasing seqs
    (a tablet's clock moves forward with its seq; equal times across devices happen)."""
    edits = []
    for device in ["a", "b", "c", "d"][: draw(st.integers(2, 4))]:
        count = draw(st.integers(1, 3))
        times = sorted(draw(st.lists(st.integers(0, 20), min_size=count, max_size=count)))
        for seq, minutes in zip(range(1, count + 1), times, strict=True):
            fields = {}
            for name in draw(st.sets(st.sampled_from(sorted(VALUES)), min_size=1)):
                fields[name] = draw(VALUES[name])
            edits.append((device, seq, minutes, fields))
    return edits


@settings(max_examples=int(__import__("os").environ.get("MERGE_EXAMPLES", "150")), deadline=None)
@given(offline_edits(), st.randoms())
def test_latest_monotonic_and_union_converge_whatever_the_arrival_order(edits, rnd):
    start = {"enrollment_status": "suspected_out_of_school", "survey_status": "not_visited",
             "vulnerable_family_types": []}
    finals = []
    orders = [list(edits), list(reversed(edits))]
    shuffled = list(edits)
    rnd.shuffle(shuffled)
    orders.append(shuffled)
    for order in orders:
        record = Record(start)
        for device, seq, minutes, fields in order:
            record.push(device, seq, minutes, 1, **fields)
        finals.append(record.fields)
    assert finals[0] == finals[1] == finals[2]


def test_every_permutation_of_a_small_case_agrees():
    edits = [("a", 1, 5, {"enrollment_status": "enrolled"}), ("b", 1, 9, {"enrollment_status": "dropped_out"}),
             ("a", 2, 12, {"enrollment_status": "never_enrolled"})]
    results = set()
    for order in itertools.permutations(edits):
        record = Record({"enrollment_status": "suspected_out_of_school"})
        for device, seq, minutes, fields in order:
            record.push(device, seq, minutes, 1, **fields)
        results.add(record.fields["enrollment_status"])
    assert results == {"never_enrolled"}
