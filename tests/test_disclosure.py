"""The reader policy (server/disclosure.py): what each viewer sees of a personal field, and that
a masked ID number stays masked beside the birth date and gender the same viewer sees."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from server import disclosure
from server.people import id_number


def candidates(masked: str, birth_date: dt.date, gender: str) -> list[str]:
    """Every valid GB 11643 number that agrees with what a viewer sees."""
    pattern = masked.replace("*", "?")
    known_birth = birth_date.strftime("%Y%m%d")
    out = []
    for seq in itertools.product("0123456789", repeat=3):
        for check in "0123456789X":
            number = pattern[:6] + known_birth + "".join(seq) + check
            if all(p in ("?", n) for p, n in zip(pattern, number, strict=True)):
                result = id_number.check(number, birth_date=birth_date, gender=gender)
                if result.ok and not result.warnings:
                    out.append(number)
    return out


@pytest.mark.parametrize("number, birth_date, gender", [
    ("11010519491231002X", dt.date(1949, 12, 31), "F"),
    (id_number.make("320685", dt.date(2013, 4, 2), 122), dt.date(2013, 4, 2), "F"),
    (id_number.make("320685", dt.date(2016, 9, 1), 17), dt.date(2016, 9, 1), "M"),
])
def test_a_masked_number_beside_birth_date_and_gender_leaves_at_least_100_numbers(number, birth_date, gender):
    masked = disclosure.mask("id_number", number)
    found = candidates(masked, birth_date, gender)
    assert number in found
    assert len(found) >= 100, (masked, len(found))


def test_the_old_first_six_last_four_mask_would_leave_one():
    # The reason for the policy: with the birth date beside it, the usual mask is the number.
    number = "11010519491231002X"
    old = number[:6] + "*" * 8 + number[-4:]
    assert candidates(old, dt.date(1949, 12, 31), "F") == [number]


@pytest.mark.parametrize("viewer, full_record, expected", [
    ("city", False, disclosure.MASKED), ("city", True, disclosure.FULL),
    ("town_supervisor", False, disclosure.MASKED), ("town_supervisor", True, disclosure.FULL),
    ("team_leader", True, disclosure.MASKED), ("surveyor", True, disclosure.MASKED),
    ("school", True, disclosure.MASKED), ("tablet", False, disclosure.ABSENT),
    ("somebody_new", True, disclosure.ABSENT),
])
def test_id_number_levels(viewer, full_record, expected):
    assert disclosure.level(viewer, "child", "id_number", full_record=full_record) == expected


def test_show_masks_and_drops_per_viewer():
    child = {"name": "王小明", "birth_date": "2013-04-02", "id_number": "11010519491231002X",
             "guardian_phone": "13812345678", "dropout_reason_note": "父母离异", "grade": 5}
    assert disclosure.show("school", "child", child) == {
        "name": "王小明", "birth_date": "2013-04-02", "id_number": "110105************",
        "guardian_phone": "138******78", "grade": 5}
    assert disclosure.show("school", "child", child, full_record=True)["guardian_phone"] == "13812345678"
    assert "id_number" not in disclosure.show("tablet", "child", child)
    assert disclosure.show("town_supervisor", "child", child, full_record=True) == child
    # Non-personal fields pass for anyone; personal ones never for a role the policy does not know.
    assert disclosure.show("somebody_new", "child", child) == {"grade": 5}


def test_viewer_of():
    class P:
        role = "school"
    assert disclosure.viewer_of(P(), None) == "school"
    assert disclosure.viewer_of(None, object()) == "tablet"
    with pytest.raises(ValueError):
        disclosure.viewer_of(None, None)
