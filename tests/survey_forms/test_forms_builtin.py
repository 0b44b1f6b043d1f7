"""The campaign's built-in forms compile, use the database's codes, and match their workbooks."""

import importlib.util
from pathlib import Path

import pytest

from survey_forms import compile_xlsform, validate_submission
from survey_forms.builtin import (
    BUILTIN_FORMS,
    XLSFORMS_DIR,
    builtin_xlsforms,
    compile_builtin_forms,
)

ROOT = Path(__file__).resolve().parents[2]
HEX = "0f" * 32


def _load_statuses():
    # Loaded from its file, not through the server package: this test is about the codes only.
    spec = importlib.util.spec_from_file_location(
        "people_statuses", ROOT / "server" / "people" / "statuses.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


STATUSES = _load_statuses()
FORMS = compile_builtin_forms()


def choices(form_id, key):
    return {c.value: c.label for c in FORMS[form_id].fields_by_key[key].choices}


def test_three_forms_one_per_record_type():
    assert {k: (f.record_type, f.version, f.title) for k, f in FORMS.items()} == {
        "household_survey": ("household", "2026.1", "住户摸底调查表"),
        "child_survey": ("child", "2026.1", "适龄儿童少年调查表"),
        "followup_visit": ("visit", "2026.1", "劝返走访记录"),
    }
    assert all(f.warnings == () for f in FORMS.values())


@pytest.mark.parametrize(
    ("form_id", "key", "codes"),
    [
        ("household_survey", "survey_status", STATUSES.SURVEY_STATUSES),
        ("household_survey", "vulnerable_family_types", STATUSES.VULNERABLE_FAMILY_TYPES),
        ("child_survey", "gender", STATUSES.GENDERS),
        ("child_survey", "enrollment_status", STATUSES.ENROLLMENT_STATUSES),
        ("child_survey", "dropout_reason", STATUSES.DROPOUT_REASONS),
        ("child_survey", "disability_type", STATUSES.DISABILITY_TYPES),
    ],
)
def test_choices_are_the_databases_codes_and_labels(form_id, key, codes):
    assert choices(form_id, key) == codes


def test_enrollment_statuses_in_campaign_order():
    assert list(choices("child_survey", "enrollment_status")) == [
        "enrolled_unconfirmed", "enrolled", "home_teaching", "sick_deferral", "moved_out",
        "abroad", "deceased", "suspected_out_of_school", "never_enrolled", "dropped_out",
        "suspended", "transferred_out", "not_school_age",
    ]


def test_household_survey_fields_and_merge_policies():
    form = FORMS["household_survey"]
    assert [(f.record_field, f.type, f.merge_policy) for f in form.fields] == [
        ("head_name", "text", "latest"),
        ("phone", "text", "latest"),
        ("address", "text", "latest"),
        ("group_name", "text", "latest"),
        ("household_number", "text", "latest"),
        ("location", "geopoint", "latest"),
        ("survey_status", "select_one", "monotonic"),
        ("vulnerable_family_types", "select_multiple", "union"),
        ("notes", "text", "latest"),
    ]
    # monotonic follows the choices' order: not_visited < visited < confirmed
    assert form.fields_by_key["survey_status"].choice_values == ("not_visited", "visited", "confirmed")


def test_child_survey_fields():
    form = FORMS["child_survey"]
    assert {f.record_field: f.type for f in form.fields} == {
        "name": "text", "gender": "select_one", "birth_date": "date", "id_number": "text",
        "enrollment_status": "select_one", "school_name": "text", "grade": "integer",
        "dropout_reason": "select_one", "dropout_reason_note": "text", "certificate_photo": "image",
        "disability": "boolean", "disability_type": "select_one", "disability_level": "integer",
        "left_behind": "boolean", "migrant": "boolean", "guardian_name": "text",
        "guardian_phone": "text",
    }
    # the database keeps disability levels 1..4 and grades 1..12 as small integers
    assert form.fields_by_key["disability_level"].constraint_checks[0].to_dict()["max"] == 4
    assert form.fields_by_key["grade"].constraint_checks[0].to_dict()["max"] == 12


def test_followup_visit_fields():
    form = FORMS["followup_visit"]
    assert [(f.record_field, f.type) for f in form.fields] == [
        ("visitors", "text"), ("visit_date", "date"), ("outcome", "select_one"),
        ("next_step", "select_one"), ("deadline", "date"), ("visit_photo", "image"),
        ("certificate_photo", "image"), ("note", "text"),
    ]


GOOD_CHILD = {
    "name": "张小雨", "gender": "F", "birth_date": "2013-04-02", "id_number": "32068520130402002X",
    "enrollment_status": "dropped_out", "dropout_reason": "weary_of_study", "disability": False,
    "left_behind": True, "migrant": False, "guardian_name": "张建国", "guardian_phone": "0513-88123456",
}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"enrollment_status": "enrolled", "dropout_reason": None, "school_name": "城南小学", "grade": 6}, []),
        ({"enrollment_status": "enrolled", "dropout_reason": None}, [("school_name", "form.required")]),
        ({"dropout_reason": None}, [("dropout_reason", "form.required")]),
        ({"dropout_reason": "other"}, [("dropout_reason_note", "form.required")]),
        ({"dropout_reason": "other", "dropout_reason_note": "随父母外出"}, []),
        ({"disability": True}, [("disability_type", "form.required")]),
        ({"disability": True, "disability_type": "hearing", "disability_level": 5},
         [("disability_level", "form.range")]),
        ({"enrollment_status": "sick_deferral", "dropout_reason": None,
          "certificate_photo": f"sha256:{HEX}"}, []),
        ({"id_number": "3206852013040200"}, [("id_number", "form.pattern")]),
        ({"guardian_phone": "12345"}, [("guardian_phone", "form.pattern")]),
        ({"gender": "女"}, [("gender", "form.choice")]),
        ({"enrollment_status": "graduated"}, [("enrollment_status", "form.choice")]),
        ({"birth_date": "2013-13-01"}, [("birth_date", "form.date")]),
    ],
)
def test_child_submissions(changes, expected):
    errors = validate_submission(FORMS["child_survey"], {**GOOD_CHILD, **changes})
    assert [(e.field, e.code) for e in errors] == expected


def test_the_sync_contracts_example_record_fits_the_child_survey():
    # sync-contract.md, "Records": the fields of the example child record
    fields = {"name": "…", "gender": "F", "birth_date": "2013-04-02",
              "enrollment_status": "dropped_out", "school_name": None, "grade": None,
              "dropout_reason": "weary_of_study", "disability": False}
    assert validate_submission(FORMS["child_survey"], fields, partial=True) == []


def test_household_and_visit_submissions():
    household = {"head_name": "王大山", "phone": "13912345678", "survey_status": "visited",
                 "location": {"lat": 32.53, "lon": 120.46, "accuracy_m": 6},
                 "vulnerable_family_types": ["poor", "parents_away"]}
    assert validate_submission(FORMS["household_survey"], household) == []
    visit = {"visitors": "李老师、王主任", "visit_date": "2026-06-12", "outcome": "refused",
             "next_step": "report_to_town"}
    assert [(e.field, e.code) for e in validate_submission(FORMS["followup_visit"], visit)] == [
        ("deadline", "form.required")
    ]
    assert validate_submission(FORMS["followup_visit"], {**visit, "deadline": "2026-06-30"}) == []


def test_committed_workbooks_are_generated_from_the_definitions():
    generated = builtin_xlsforms()
    committed = {p.name: p.read_bytes() for p in XLSFORMS_DIR.glob("*.xlsx")}
    assert committed.keys() == generated.keys(), "run: python -m survey_forms.builtin"
    for name, data in generated.items():
        assert committed[name] == data, f"{name} is stale; run: python -m survey_forms.builtin"


@pytest.mark.parametrize("definition", BUILTIN_FORMS, ids=lambda d: d.form_id)
def test_each_committed_workbook_compiles_to_the_same_form(definition):
    from_file = compile_xlsform(XLSFORMS_DIR / definition.file_name)
    assert from_file.sha256 == FORMS[definition.form_id].sha256
    assert "<h:html" in from_file.to_xform()
