"""XLSForms compile into versioned JSON forms; broken ones come back as sheet-and-row errors."""

import hashlib
import json
import xml.etree.ElementTree as ET

import pytest

from survey_forms import CompiledForm, FormDefinitionError, check_xlsform, compile_xlsform
from survey_forms.builtin import xlsx_bytes
from survey_forms.model import AnyOf, Comparison, Length, Pattern, Range

SETTINGS = [
    ["form_title", "form_id", "version", "record_type"],
    ["住户与儿童（示例）", "odk_style_example", "2026.1", "household"],
]

# In the style of the ODK documentation's XLSForm examples: two label languages, hints,
# constraints with messages, relevance, a group, a note and a calculation; plus the campaign's
# extra columns.
ODK_STYLE_SURVEY = [
    [
        "type", "name", "label::English (en)", "label::中文 (zh)", "hint::中文 (zh)", "required",
        "constraint", "constraint_message::中文 (zh)", "relevant", "calculation", "appearance",
        "merge_policy", "record_field", "renamed_from",
    ],
    ["note", "intro", "Household survey", "住户调查", None, None, None, None, None, None, None, None, None, None],
    ["begin_group", "respondent", "Respondent", "受访人", None, None, None, None, None, None, "field-list", None, None, None],
    ["text", "respondent_name", "Name", "姓名", None, "yes", "string-length(.) <= 50", "不超过50字", None, None, None, None, "head_name", None],
    ["integer", "age", "Age", "年龄", "周岁", "yes", ". >= 0 and . <= 120", "年龄须在0到120之间", None, None, None, None, None, "age_years"],
    ["text", "phone", "Phone", "电话", None, None, "regex(., '^1[3-9][0-9]{9}$')", "请填写11位手机号", None, None, None, None, None, None],
    ["end_group", None, None, None, None, None, None, None, None, None, None, None, None, None],
    ["select_one yes_no", "has_children", "Any children aged 6-15?", "有6至15岁的孩子吗？", None, "yes", None, None, None, None, None, None, None, None],
    ["integer", "children_count", "How many?", "几个？", None, "yes", ". > 0", None, "${has_children} = 'yes'", None, None, None, None, None],
    ["calculate", "many_children", None, None, None, None, None, None, None, "${children_count} > 2", None, None, None, None],
    ["select_multiple hardship", "hardships", "Hardships", "困难", None, None, None, None, "${has_children} = 'yes'", None, None, "union", None, None],
    ["select_one visit_status", "visit_status", "Visit status", "走访状态", None, "yes", None, None, None, None, None, "monotonic", None, None],
    ["decimal", "income", "Income (10k yuan)", "年收入（万元）", None, None, ". >= 0", None, None, None, None, "manual", None, None],
    ["date", "visit_date", "Visit date", "走访日期", None, None, ". <= today()", None, None, None, None, None, None, None],
    ["geopoint", "location", "Location", "位置", None, None, None, None, None, None, None, None, None, None],
    ["image", "door_photo", "Photo of the door", "门牌照片", None, None, None, None, None, None, None, None, None, None],
]
ODK_STYLE_CHOICES = [
    ["list_name", "name", "label::English (en)", "label::中文 (zh)"],
    ["yes_no", "yes", "Yes", "是"],
    ["yes_no", "no", "No", "否"],
    ["hardship", "poor", "Poor", "贫困"],
    ["hardship", "single_parent", "Single parent", "单亲"],
    ["visit_status", "not_visited", "Not visited", "未走访"],
    ["visit_status", "visited", "Visited", "已走访"],
    ["visit_status", "confirmed", "Confirmed", "已核实"],
]


def book(survey, choices=None, settings=SETTINGS):
    sheets = {"survey": survey}
    if choices:
        sheets["choices"] = choices
    if settings:
        sheets["settings"] = settings
    return xlsx_bytes(sheets)


ODK_STYLE = book(ODK_STYLE_SURVEY, ODK_STYLE_CHOICES)


@pytest.fixture(scope="module")
def form() -> CompiledForm:
    return compile_xlsform(ODK_STYLE)


def test_settings_become_the_form_header(form):
    assert (form.form_id, form.version, form.record_type) == ("odk_style_example", "2026.1", "household")
    assert form.title == "住户与儿童（示例）"


def test_groups_flatten_and_notes_and_calculations_are_not_fields(form):
    assert [f.record_field for f in form.fields] == [
        "head_name", "age", "phone", "has_children", "children_count", "hardships",
        "visit_status", "income", "visit_date", "location", "door_photo",
    ]
    assert form.fields_by_key["head_name"].group == "respondent"
    assert form.fields_by_key["has_children"].group is None


def test_types_labels_and_choices(form):
    by_key = form.fields_by_key
    assert {k: f.type for k, f in by_key.items()} == {
        "head_name": "text", "age": "integer", "phone": "text", "has_children": "boolean",
        "children_count": "integer", "hardships": "select_multiple", "visit_status": "select_one",
        "income": "decimal", "visit_date": "date", "location": "geopoint", "door_photo": "image",
    }
    assert by_key["age"].label == "年龄" and by_key["age"].hint == "周岁"
    assert [c.to_dict() for c in by_key["visit_status"].choices] == [
        {"value": "not_visited", "label": "未走访"},
        {"value": "visited", "label": "已走访"},
        {"value": "confirmed", "label": "已核实"},
    ]
    assert [c.to_dict() for c in by_key["has_children"].choices] == [
        {"value": True, "label": "是"},
        {"value": False, "label": "否"},
    ]


def test_required_constraints_and_relevance(form):
    by_key = form.fields_by_key
    assert [k for k, f in by_key.items() if f.required] == [
        "head_name", "age", "has_children", "children_count", "visit_status",
    ]
    assert by_key["head_name"].constraint_checks == (Length(None, 50),)
    assert by_key["age"].constraint_checks == (Range(0, 120),)
    assert by_key["age"].constraint_message == "年龄须在0到120之间"
    assert by_key["phone"].constraint_checks == (Pattern("^1[3-9][0-9]{9}$"),)
    assert by_key["children_count"].constraint_checks == (Range(0, None, False, True),)
    # kept raw for the tablet, with nothing the server can check
    assert by_key["visit_date"].constraint == ". <= today()"
    assert by_key["visit_date"].constraint_checks == ()
    assert by_key["children_count"].relevant == "${has_children} = 'yes'"
    assert by_key["children_count"].relevant_when == Comparison("has_children", "=", "yes")


def test_merge_policies_record_fields_and_renames(form):
    by_key = form.fields_by_key
    assert {k: f.merge_policy for k, f in by_key.items() if f.merge_policy != "latest"} == {
        "hardships": "union", "visit_status": "monotonic", "income": "manual",
    }
    assert by_key["head_name"].name == "respondent_name"
    assert by_key["age"].renamed_from == "age_years"
    assert by_key["visit_status"].choice_values == ("not_visited", "visited", "confirmed")


def test_group_relevance_is_anded_into_its_fields():
    survey = [
        ["type", "name", "label", "relevant", "required"],
        ["select_one s", "status", "状态", None, "yes"],
        ["begin_group", "school", "学校", "${status} = 'a' or ${status} = 'b'", None],
        ["text", "school_name", "学校名称", "${status} != 'b'", "yes"],
        ["end_group", None, None, None, None],
    ]
    choices = [["list_name", "name", "label"], ["s", "a", "甲"], ["s", "b", "乙"], ["s", "c", "丙"]]
    field = compile_xlsform(book(survey, choices)).fields_by_key["school_name"]
    assert field.relevant == "(${status} = 'a' or ${status} = 'b') and (${status} != 'b')"
    assert field.relevant_when.to_dict() == {
        "op": "and",
        "terms": [
            AnyOf((Comparison("status", "=", "a"), Comparison("status", "=", "b"))).to_dict(),
            {"op": "!=", "field": "status", "value": "b"},
        ],
    }


def test_a_required_expression_is_left_to_the_tablet():
    survey = [
        ["type", "name", "label", "required"],
        ["select_one s", "status", "状态", "true()"],
        ["text", "reason", "原因", "${status} = 'b'"],
    ]
    choices = [["list_name", "name", "label"], ["s", "a", "甲"], ["s", "b", "乙"]]
    form = compile_xlsform(book(survey, choices))
    assert form.fields_by_key["status"].required is True
    reason = form.fields_by_key["reason"]
    assert (reason.required, reason.required_if) == (False, "${status} = 'b'")


def test_the_xform_comes_from_pyxform(form):
    root = ET.fromstring(form.to_xform())
    ns = {"x": "http://www.w3.org/2002/xforms", "h": "http://www.w3.org/1999/xhtml"}
    instance = root.find("h:head/x:model/x:instance/x:odk_style_example", ns)
    assert instance is None  # the instance root is named after the form's root, "data"
    data = root.find("h:head/x:model/x:instance/x:data", ns)
    assert data.get("id") == "odk_style_example" and data.get("version") == "2026.1"
    # the campaign's extra columns stay out of the XForm
    assert "merge_policy" not in form.to_xform() and "record_field" not in form.to_xform()


def test_the_compiled_form_is_json_and_reads_back(form):
    data = json.loads(json.dumps(form.to_dict(), ensure_ascii=False))
    assert data["sha256"] == form.sha256
    again = CompiledForm.from_dict(data)
    assert again == form and again.sha256 == form.sha256
    with pytest.raises(ValueError, match="hash mismatch"):
        CompiledForm.from_dict({**data, "title": "改过的标题"})


def test_content_hash_is_stable_and_changes_with_the_form(form):
    assert compile_xlsform(ODK_STYLE).sha256 == form.sha256
    assert len(form.sha256) == 64
    relabelled = [row[:] for row in ODK_STYLE_SURVEY]
    relabelled[4][3] = "年龄（周岁）"
    assert compile_xlsform(book(relabelled, ODK_STYLE_CHOICES)).sha256 != form.sha256
    reordered = [ODK_STYLE_CHOICES[0], *ODK_STYLE_CHOICES[1:][::-1]]
    # the order of choices is the order of a monotonic status: it is content
    assert compile_xlsform(book(ODK_STYLE_SURVEY, reordered)).sha256 != form.sha256
    bumped = [SETTINGS[0], [*SETTINGS[1][:2], "2026.2", "household"]]
    assert compile_xlsform(book(ODK_STYLE_SURVEY, ODK_STYLE_CHOICES, bumped)).sha256 != form.sha256


def test_the_hash_is_sha256_of_sorted_compact_utf8_json(form):
    # what a tablet does to check the form it downloaded
    body = {k: v for k, v in form.to_dict().items() if k != "sha256"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert form.canonical_json() == canonical.encode("utf-8")
    assert form.sha256 == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_compiles_from_a_path(tmp_path):
    path = tmp_path / "example.xlsx"
    path.write_bytes(ODK_STYLE)
    assert compile_xlsform(path).form_id == "odk_style_example"
    assert check_xlsform(str(path)) == []


# ---------------------------------------------------------------------------------------------
# Broken forms

H = ["type", "name", "label"]
CHOICES = [["list_name", "name", "label"], ["s", "a", "甲"], ["s", "b", "乙"]]


def errors_of(data):
    with pytest.raises(FormDefinitionError) as failure:
        compile_xlsform(data)
    return [(e.sheet, e.row, e.code) for e in failure.value.errors]


@pytest.mark.parametrize(
    ("survey", "choices", "expected"),
    [
        # pyxform's own checks, with the row recovered from its message
        ([H, ["text", "a", "A"], ["begin_group", "g", "G"], ["text", "b", "B"]], None,
         [("survey", 3, "xlsform.invalid")]),
        ([H, ["text", "a", "A"], ["text", "a", "A again"]], None, [("survey", 3, "xlsform.invalid")]),
        ([H, ["text", "a", "A"], ["text", "1b", "B"]], None, [("survey", 3, "xlsform.invalid")]),
        ([H, ["text", "a", "A"], [None, "b", "B"]], None, [("survey", 3, "xlsform.invalid")]),
        ([H, ["text", "a", "A"], [None, None, None], ["txet", "b", "B"]], None,
         [("survey", 4, "xlsform.invalid")]),
        ([H, ["select_one nope", "a", "A"]], CHOICES, [("survey", 2, "xlsform.invalid")]),
        ([H, ["select_one s", "a", "A"]], [*CHOICES, ["s", "a", "重复"]],
         [("choices", 4, "xlsform.invalid")]),
        ([[*H, "relevant"], ["text", "a", "A", None], ["text", "b", "B", "${zz} = 'x'"]], None,
         [("survey", 3, "xlsform.invalid")]),
        # the campaign's own checks
        ([[*H, "merge_policy"], ["text", "a", "A", "newest"]], None,
         [("survey", 2, "xlsform.merge_policy")]),
        ([[*H, "merge_policy"], ["integer", "a", "A", "monotonic"]], None,
         [("survey", 2, "xlsform.merge_policy")]),
        ([[*H, "merge_policy"], ["select_one s", "a", "A", "union"]], CHOICES,
         [("survey", 2, "xlsform.merge_policy")]),
        ([[*H, "merge_policy"], ["note", "a", "A", "manual"]], None,
         [("survey", 2, "xlsform.merge_policy")]),
        ([[*H, "record_field"], ["text", "a", "A", "not a name"]], None,
         [("survey", 2, "xlsform.record_field")]),
        ([[*H, "record_field"], ["text", "a", "A", None], ["text", "b", "B", "a"]], None,
         [("survey", 3, "xlsform.record_field")]),
        ([H, ["begin_group", "g1", "G1"], ["text", "x", "X"], ["end_group", None, None],
          ["begin_group", "g2", "G2"], ["text", "x", "X"], ["end_group", None, None]], None,
         [("survey", 6, "xlsform.record_field")]),
        ([[*H, "renamed_from"], ["text", "a", "A", "old"], ["text", "b", "B", "old"]], None,
         [("survey", 3, "xlsform.renamed_from")]),
        ([[*H, "renamed_from"], ["text", "a", "A", "a"]], None, [("survey", 2, "xlsform.renamed_from")]),
        ([H, ["text", "a", "A"], ["range", "r", "R"]], None, [("survey", 3, "xlsform.unsupported_type")]),
        ([H, ["time", "t", "T"]], None, [("survey", 2, "xlsform.unsupported_type")]),
        ([H, ["begin_repeat", "kids", "K"], ["text", "n", "N"], ["end_repeat", None, None]], None,
         [("survey", 2, "xlsform.unsupported_type")]),
        # several problems are reported together, in row order
        ([[*H, "merge_policy", "record_field"], ["integer", "a", "A", "union", None],
          ["text", "b", "B", None, "a"]], None,
         [("survey", 2, "xlsform.merge_policy"), ("survey", 3, "xlsform.record_field")]),
    ],
)
def test_broken_forms_name_sheet_and_row(survey, choices, expected):
    assert errors_of(book(survey, choices)) == expected


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (None, [("settings", None, "xlsform.form_id"), ("settings", None, "xlsform.version"),
                ("settings", None, "xlsform.record_type")]),
        ([["form_id", "version", "record_type"], ["Bad Id", "2026.1", "child"]],
         [("settings", 2, "xlsform.form_id")]),
        ([["form_id", "version", "record_type"], ["ok", "2026 first", "child"]],
         [("settings", 2, "xlsform.version")]),
        ([["form_id", "version", "record_type"], ["ok", "2026.1", "school"]],
         [("settings", 2, "xlsform.record_type")]),
    ],
)
def test_settings_are_checked(settings, expected):
    assert errors_of(book([H, ["text", "a", "A"]], settings=settings)) == expected


def test_errors_carry_column_and_message():
    survey = [[*H, "relevant"], ["text", "a", "A", None], ["text", "b", "B", "${zz} = 'x'"]]
    (error,) = check_xlsform(book(survey))
    assert error.to_dict() == {
        "sheet": "survey", "row": 3, "column": "relevant", "code": "xlsform.invalid",
        "message": error.message,
    }
    assert "zz" in error.message


def test_a_file_that_is_no_workbook_is_unreadable():
    assert errors_of(b"\x00\x01 not a workbook") == [(None, None, "xlsform.unreadable")]


def test_pyxform_warnings_are_kept_beside_the_form():
    form = compile_xlsform(book([H, ["image", "p", "照片"]]))
    assert [(w.sheet, w.row, w.code) for w in form.warnings] == [("survey", 2, "xlsform.warning")]
    assert "warnings" not in form.to_dict()
