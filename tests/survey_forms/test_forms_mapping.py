"""Work done with an older form version is carried forward to the newest one, not lost."""

import pytest

from survey_forms import compile_xlsform, map_forward, validate_submission
from survey_forms.builtin import FormDefinition, Question

STATUS = {"enrolled": "在读", "dropped_out": "辍学", "never_enrolled": "未入学"}


def version(number, questions, status=STATUS):
    return compile_xlsform(
        FormDefinition(
            form_id="child_check",
            title="儿童核查",
            record_type="child",
            version=number,
            questions=tuple(questions),
            choices={"status": status},
        ).to_xlsx()
    )


# 2026.1: the first version a tablet downloaded.
V1 = version("2026.1", [
    Question("text", "name", "姓名", required="yes"),
    Question("text", "phone", "电话"),
    Question("select_one status", "status", "就学状态"),
    Question("text", "village_cadre", "村干部"),
    Question("integer", "grade", "年级"),
])
# 2026.2: phone is now explicitly the guardian's, the cadre question is gone, a field is added.
V2 = version("2026.2", [
    Question("text", "name", "姓名", required="yes"),
    Question("text", "guardian_phone", "监护人电话", renamed_from="phone"),
    Question("select_one status", "status", "就学状态"),
    Question("integer", "grade", "年级"),
    Question("text", "school_name", "学校"),
])
# 2026.3: renamed again, and "never_enrolled" is no longer a choice.
V3 = version("2026.3", [
    Question("text", "name", "姓名", required="yes"),
    Question("text", "contact_phone", "联系电话", renamed_from="guardian_phone"),
    Question("select_one status", "status", "就学状态"),
    Question("integer", "grade", "年级"),
    Question("text", "school_name", "学校"),
], status={"enrolled": "在读", "dropped_out": "辍学"})

SUBMITTED_WITH_V1 = {
    "name": "王芳", "phone": "13912345678", "status": "dropped_out", "village_cadre": "李主任",
    "grade": 5,
}


def test_the_old_submission_is_valid_for_its_own_version():
    assert validate_submission(V1, SUBMITTED_WITH_V1) == []
    # ...while the newest version alone would refuse it
    assert {e.code for e in validate_submission(V3, SUBMITTED_WITH_V1)} == {"form.unknown_field"}


def test_one_step_renames_and_drops():
    mapped = map_forward(SUBMITTED_WITH_V1, [V1, V2])
    assert mapped.fields == {"name": "王芳", "guardian_phone": "13912345678",
                             "status": "dropped_out", "grade": 5}
    assert mapped.renamed == {"phone": "guardian_phone"}
    assert mapped.dropped == {"village_cadre": "李主任"}
    assert (mapped.from_version, mapped.to_version) == ("2026.1", "2026.2")
    assert validate_submission(V2, mapped.fields, partial=True) == []


def test_a_chain_of_renames_is_followed_across_versions():
    mapped = map_forward(SUBMITTED_WITH_V1, [V1, V2, V3])
    assert mapped.fields == {"name": "王芳", "contact_phone": "13912345678",
                             "status": "dropped_out", "grade": 5}
    assert mapped.renamed == {"phone": "contact_phone"}
    assert mapped.dropped == {"village_cadre": "李主任"}
    assert mapped.invalid == []


def test_a_value_the_newest_version_no_longer_allows_is_not_applied():
    mapped = map_forward({**SUBMITTED_WITH_V1, "status": "never_enrolled"}, [V1, V2, V3])
    assert "status" not in mapped.fields
    assert [(e.field, e.code) for e in mapped.invalid] == [("status", "form.choice")]
    assert mapped.to_dict()["invalid"][0]["field"] == "status"


def test_the_same_version_maps_to_itself():
    mapped = map_forward(SUBMITTED_WITH_V1, [V1])
    assert mapped.fields == SUBMITTED_WITH_V1
    assert mapped.renamed == {} and mapped.dropped == {}


def test_a_rename_wins_over_a_new_field_that_reuses_the_old_name():
    v2 = version("2026.2", [
        Question("text", "name", "姓名", required="yes"),
        Question("text", "guardian_phone", "监护人电话", renamed_from="phone"),
        Question("text", "phone", "本人电话"),  # a new question that happens to reuse the name
    ])
    mapped = map_forward({"name": "王芳", "phone": "13912345678"}, [V1, v2])
    assert mapped.fields == {"name": "王芳", "guardian_phone": "13912345678"}
    assert mapped.dropped == {}


def test_versions_of_different_forms_are_refused():
    other = compile_xlsform(
        FormDefinition("other_form", "其他", "child", (Question("text", "name", "姓名"),)).to_xlsx()
    )
    with pytest.raises(ValueError, match="different forms"):
        map_forward({"name": "x"}, [V1, other])
    with pytest.raises(ValueError):
        map_forward({"name": "x"}, [])
