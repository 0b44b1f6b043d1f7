"""A submission's fields are checked against its form version, field by field, with stable codes."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey_forms import CompiledForm, compile_xlsform, validate_submission
from survey_forms.builtin import FormDefinition, Question

HEX = "ab" * 32

FORM = compile_xlsform(
    FormDefinition(
        form_id="all_types",
        title="全部题型",
        record_type="child",
        questions=(
            Question("text", "name", "姓名", required="yes", constraint="string-length(.) <= 5"),
            Question("text", "phone", "电话", constraint="regex(., '^1[3-9][0-9]{9}$')"),
            Question("integer", "age", "年龄", constraint=". >= 0 and . <= 120"),
            Question("decimal", "height_m", "身高", constraint=". > 0 and . < 3"),
            Question("date", "birth_date", "出生日期"),
            Question("select_one status", "status", "状态", required="yes"),
            Question("select_multiple kinds", "kinds", "类型"),
            Question("select_one yes_no", "disabled", "是否残疾"),
            Question("geopoint", "location", "位置"),
            Question("image", "photo", "照片", parameters="max-pixels=1024"),
            # required when relevant, relevance in each simple shape
            Question("text", "school", "学校", required="yes", relevant="${status} = 'enrolled'"),
            Question(
                "text", "reason", "原因", required="yes", relevant="selected(${kinds}, 'other')"
            ),
            Question(
                "select_one level", "level", "等级", required="yes", relevant="${disabled} = 'yes'"
            ),
            # relevance the server cannot read: left to the tablet
            Question("text", "note", "说明", required="yes", relevant="${age} > 10"),
        ),
        choices={
            "status": {"enrolled": "在读", "dropped_out": "辍学"},
            "kinds": {"poor": "贫困", "other": "其他"},
            "yes_no": {"yes": "是", "no": "否"},
            "level": {"1": "一级", "2": "二级"},
        },
    ).to_xlsx()
)

BASE = {"name": "小明", "status": "dropped_out"}


def codes(fields, form=FORM, **kwargs):
    return [(e.field, e.code) for e in validate_submission(form, fields, **kwargs)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "李小红"),
        ("phone", "13912345678"),
        ("age", 0),
        ("age", 120),
        ("height_m", 1.42),
        ("height_m", 2),
        ("birth_date", "2013-04-02"),
        ("birth_date", "2012-02-29"),
        ("status", "dropped_out"),
        ("kinds", ["poor"]),
        ("kinds", ["poor", "other"]),
        ("disabled", True),
        ("disabled", False),
        ("location", {"lat": 32.53, "lon": 120.46, "accuracy_m": 8}),
        ("location", {"lat": -90, "lon": 180, "accuracy_m": 0}),
        ("location", {"lat": 32.5, "lon": 120.4}),  # typed in by hand: no accuracy
        ("photo", f"sha256:{HEX}"),
        # no answer is fine for an optional field, whatever its type
        ("phone", None),
        ("phone", ""),
        ("kinds", []),
        ("location", None),
    ],
)
def test_good_answers_pass(field, value):
    fields = {**BASE, field: value}
    if field == "kinds" and value and "other" in value:
        fields["reason"] = "家里有事"
    if field == "disabled" and value:
        fields["level"] = "1"
    assert codes(fields) == []


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("name", 42, "form.type"),
        ("name", "一二三四五六", "form.length"),
        ("name", "王\x00", "form.nul_character"),
        ("phone", "12345678901", "form.pattern"),
        ("phone", "1391234567", "form.pattern"),
        ("age", "12", "form.type"),
        ("age", 12.5, "form.type"),
        ("age", True, "form.type"),
        ("age", -1, "form.range"),
        ("age", 121, "form.range"),
        ("height_m", "1.4", "form.type"),
        ("height_m", 0, "form.range"),  # exclusive bound
        ("height_m", 3, "form.range"),
        ("height_m", float("nan"), "form.type"),
        ("birth_date", 20130402, "form.type"),
        ("birth_date", "2013/04/02", "form.date"),
        ("birth_date", "2013-02-30", "form.date"),
        ("birth_date", "13-04-02", "form.date"),
        ("status", "graduated", "form.choice"),
        ("status", ["enrolled"], "form.type"),
        ("kinds", "poor", "form.type"),
        ("kinds", ["rich"], "form.choice"),
        ("kinds", ["poor", "poor"], "form.choice"),
        ("kinds", [1], "form.type"),
        ("disabled", "yes", "form.type"),
        ("disabled", 1, "form.type"),
        ("location", [32.5, 120.4], "form.type"),
        ("location", {"lat": 91, "lon": 120, "accuracy_m": 5}, "form.geopoint"),
        ("location", {"lat": 32, "lon": 181, "accuracy_m": 5}, "form.geopoint"),
        ("location", {"lat": "32", "lon": 120, "accuracy_m": 5}, "form.geopoint"),
        ("location", {"lon": 120, "accuracy_m": 5}, "form.geopoint"),
        ("location", {"lat": 32, "lon": 120, "accuracy_m": -1}, "form.geopoint"),
        ("location", {"lat": 32, "lon": 120, "altitude": 5}, "form.geopoint"),
        ("photo", "sha256:" + "AB" * 32, "form.image"),
        ("photo", "sha256:abc", "form.image"),
        ("photo", "photo.jpg", "form.image"),
        ("photo", 7, "form.type"),
    ],
)
def test_bad_answers_are_refused_with_a_stable_code(field, value, code):
    assert codes({**BASE, field: value}) == [(field, code)]


def test_unknown_fields_are_refused_by_name():
    assert codes({**BASE, "favourite_food": "面条", "age_years": 9}) == [
        ("age_years", "form.unknown_field"),
        ("favourite_food", "form.unknown_field"),
    ]


def test_every_error_is_reported_not_just_the_first():
    assert codes({"name": 7, "age": 200, "zzz": 1}) == [
        ("name", "form.type"),
        ("age", "form.range"),
        ("status", "form.required"),
        ("zzz", "form.unknown_field"),
    ]


@pytest.mark.parametrize("empty", [None, "", "absent"])
def test_required_fields(empty):
    fields = {"status": "dropped_out"} if empty == "absent" else {**BASE, "name": empty}
    assert codes(fields) == [("name", "form.required")]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # ${status} = 'enrolled'
        ({"status": "enrolled"}, [("school", "form.required")]),
        ({"status": "enrolled", "school": "城南小学"}, []),
        ({"status": "dropped_out"}, []),
        # selected(${kinds}, 'other')
        ({"kinds": ["poor", "other"]}, [("reason", "form.required")]),
        ({"kinds": ["poor", "other"], "reason": "家里有事"}, []),
        ({"kinds": ["poor"]}, []),
        # ${disabled} = 'yes' on a yes/no question the record keeps as a boolean
        ({"disabled": True}, [("level", "form.required")]),
        ({"disabled": True, "level": "2"}, []),
        ({"disabled": False}, []),
        # `${age} > 10` is not a simple shape: the tablet decides, the server does not guess
        ({"age": 12}, []),
    ],
)
def test_required_if_relevant(fields, expected):
    assert codes({**BASE, **fields}) == expected


def test_partial_submission_skips_absent_fields_but_not_empty_ones():
    assert codes({"age": 5}, partial=True) == []
    assert codes({"name": ""}, partial=True) == [("name", "form.required")]
    # the relevance reads a field this partial submission lacks: unknown, so not required
    assert codes({"school": None}, partial=True) == []
    assert codes({"status": "enrolled", "school": None}, partial=True) == [
        ("school", "form.required")
    ]


def test_fields_must_be_an_object():
    assert codes(["name"]) == [(None, "form.type")]


def test_errors_carry_a_message_naming_the_field():
    (error,) = validate_submission(FORM, {**BASE, "age": 121})
    assert error.to_dict() == {"field": "age", "code": "form.range", "message": error.message}
    assert "年龄" in error.message and "age" in error.message


def test_a_form_read_back_from_json_validates_the_same():
    again = CompiledForm.from_dict(FORM.to_dict())
    fields = {**BASE, "age": 121, "kinds": ["other"], "photo": "x"}
    assert codes(fields, form=again) == codes(fields)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([f.record_field for f in FORM.fields] + ["extra"]), JSON))
def test_any_json_gets_codes_never_a_crash(fields):
    for error in validate_submission(FORM, fields):
        assert error.code.startswith("form.")
        assert error.field in fields or error.code == "form.required"
