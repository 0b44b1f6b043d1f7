"""What a surveyor picks a household or child by in Collect's list."""

from server.openrosa.entity_lists import build, cell, label


def test_labels_name_the_head_and_the_group_and_number_once():
    assert label("household", {"head_name": "付龙", "group_name": "3组", "household_number": "0010010006"}) \
        == "付龙（3组0010010006号）"
    assert label("household", {"head_name": "付龙", "group_name": "3", "household_number": "6号"}) == "付龙（3组6号）"
    assert label("household", {"head_name": None}) == "（未填户主）"
    assert label("child", {"name": "王小花", "birth_date": "2015-09-01"}) == "王小花（2015年生）"


def test_cells_are_xforms_text():
    assert cell(True) == "yes" and cell(False) == "no" and cell(None) == ""
    assert cell(["poor", "single_parent"]) == "poor single_parent"
    assert cell({"lat": 32.5, "lon": 120.4, "accuracy_m": 6.0}) == "32.5 120.4 0 6.0"


def test_the_bytes_are_the_same_for_the_same_content():
    rows = [({"id": "b", "version": 2, "village_code": "v", "household_id": None}, {"head_name": "乙"}),
            ({"id": "a", "version": 1, "village_code": "v", "household_id": None}, {"head_name": "甲"})]
    one = build("households", rows, {"head_name": "head_name"})
    assert one.md5 == build("households", rows, {"head_name": "head_name"}).md5
    assert one.content.decode().splitlines()[0] == "name,label,__version,village,head_name"
    changed = build("households", [rows[0], ({**rows[1][0], "version": 3}, rows[1][1])], {"head_name": "head_name"})
    assert changed.md5 != one.md5
