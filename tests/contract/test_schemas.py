"""The machine-readable contract: valid schemas, an example for each, and examples that fit."""

from __future__ import annotations

import copy
import json

import pytest
from jsonschema import Draft202012Validator, ValidationError

import mobile_contract
from mobile_contract.client.tablet import form_sha256
from sync.scope_hash import scope_hash

SCHEMAS = mobile_contract.schema_names()
EXAMPLES = mobile_contract.example_paths()


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def example(name):
    return load(mobile_contract.EXAMPLES_DIR / f"{name}.json")


@pytest.mark.parametrize("name", [*SCHEMAS, mobile_contract.DEFINITIONS])
def test_schema_is_valid_draft_2020_12_with_its_file_name_as_id(name):
    schema = mobile_contract.load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"{mobile_contract.SCHEMA_BASE_URI}{name}.json"


def test_every_payload_the_contract_names_has_a_schema():
    assert set(SCHEMAS) >= {
        "enroll_request", "enroll_response", "manifest", "compiled_form", "changes_response",
        "record", "push_request", "push_response", "repair_request", "repair_response",
        "conflicts_list", "conflict", "conflict_resolve_request", "error",
        "enrollment_code_request", "enrollment_code_response", "surveyors_list",
    }


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_schema_has_an_example(name):
    assert any(mobile_contract.example_schema(p) == name for p in EXAMPLES), name


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_validates_against_its_schema(path):
    name = mobile_contract.example_schema(path)
    assert name in SCHEMAS, f"{path.name}: no schema {name}.json"
    errors = list(mobile_contract.validator(name).iter_errors(load(path)))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_examples_show_every_receipt_status_and_every_refusal_code_the_contract_names():
    statuses, codes = set(), set()
    for path in EXAMPLES:
        text = path.read_text(encoding="utf-8")
        if path.name.startswith("push_response."):
            statuses |= {r["status"] for r in load(path)["receipts"]}
        codes |= {c for c in ("sync.submission_id_reused", "sync.unknown_reference",
                              "auth.device_revoked") if f'"{c}"' in text}
    assert statuses == {"applied", "merged", "conflict", "rejected"}  # a re-send gets its original receipt
    assert codes == {"sync.submission_id_reused", "sync.unknown_reference", "auth.device_revoked"}
    assert example("error.device_revoked")["code"] == "auth.device_revoked"


def test_compiled_form_examples_carry_the_hash_a_tablet_can_recompute():
    for path in EXAMPLES:
        if path.name.startswith("compiled_form."):
            form = load(path)
            assert form["sha256"] == form_sha256(form), path.name


def test_the_built_in_forms_as_compiled_fit_the_compiled_form_schema():
    from survey_forms.builtin import compile_builtin_forms

    for compiled in compile_builtin_forms().values():
        mobile_contract.validate("compiled_form", compiled.to_dict())
        assert form_sha256(compiled.to_dict()) == compiled.sha256


def test_last_page_example_carries_the_scope_hash_of_the_records_it_and_the_first_page_leave():
    first, last = example("changes_response.first_page"), example("changes_response.last_page")
    held = {}
    for change in first["changes"] + last["changes"]:
        if change["op"] == "upsert":
            record = change["record"]
            held[(record["type"], record["id"])] = record["version"]
        else:
            held.pop((change["type"], change["id"]), None)
    assert last["scope_hash"] == scope_hash((t, i, v) for (t, i), v in held.items())


def _set(document, path, value):
    target = document
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value


DELETE = object()
SUB = ("submissions", 0)
# Each a mutation of a valid example that the contract does not allow.
BREAKAGES = [
    ("changes_response.first_page", ("scope_hash",), "0" * 32),  # hash only on the last page
    ("changes_response.last_page", ("scope_hash",), None),
    ("changes_response.last_page", ("scope_hash",), "ABCDEF" * 5 + "00"),  # upper case
    ("changes_response.last_page", ("changes", 0, "op"), "update"),
    ("changes_response.last_page", ("changes", 2, "merged_into"), DELETE),
    ("record.child_with_conflict", ("version",), 0),
    ("record.child_with_conflict", ("updated_at",), "2026-05-28T10:02:11"),  # no offset
    ("record.child_with_conflict", ("updated_at",), "2026-02-30T10:02:11+08:00"),  # no such day
    ("record.child_with_conflict", ("village_code",), "32068510520"),
    ("record.child_with_conflict", ("household_id",), None),  # a child has a household
    ("record.child_with_conflict", ("id",), "0B6C1E2A-0000-4000-8000-000000000000"),
    ("record.child_with_conflict", ("type",), "school"),
    ("record.visit", ("child_id",), DELETE),
    ("push_request.survey_day", (*SUB, "device_seq"), 0),
    ("push_request.survey_day", (*SUB, "record", "type"), "task"),  # read-only on tablets
    ("push_request.survey_day", (*SUB, "record", "base_version"), "4"),
    ("push_request.survey_day", (*SUB, "attachments"), ["sha256:abc"]),
    ("push_request.survey_day", (*SUB, "location"), {"lat": 32.5, "lon": 120.4}),
    ("push_request.survey_day", (*SUB, "extra"), 1),
    ("push_request.survey_day", ("submissions", 4, "record", "child_id"), DELETE),  # a visit's child
    ("push_request.survey_day", (*SUB, "record", "child_id"), "5f1e0a2b-1c3d-4e5f-8a9b-0c1d2e3f4a5b"),
    ("push_response.survey_day", ("receipts", 0, "status"), "accepted"),
    ("push_response.survey_day", ("receipts", 0, "record", "version"), None),  # only when rejected
    ("push_response.survey_day", ("receipts", 0, "record", "id"), "abc"),  # only when rejected
    ("push_response.survey_day", ("receipts", 0, "submission_id"), None),
    ("push_response.rejected_validation", ("receipts", 0, "errors"), []),
    ("repair_response.basic", ("scope_hash",), None),
    ("push_response.conflict", ("receipts", 0, "conflicts"), []),
    ("push_response.missing_attachments", ("receipts", 0, "missing_attachments", 0), "photo.jpg"),
    ("repair_request.basic", ("have",), {"child:not-a-uuid": 3}),
    ("repair_request.basic", ("have",), {"school:0b6c1e2a-0000-4000-8000-000000000000": 3}),
    ("error.device_revoked", ("errors",), DELETE),
    ("error.device_revoked", ("code",), "DeviceRevoked"),
    ("manifest.school_line", ("protocol_version",), 2),
    ("manifest.school_line", ("limits", "max_page_size"), DELETE),
    ("conflict.resolved", ("resolution",), None),  # resolved without a resolution
    ("conflicts_list.open", ("items", 0, "status"), "closed"),
    ("enroll_request.basic", ("platform",), DELETE),
    ("compiled_form.household_survey", ("fields", 0, "merge_policy"), "first_wins"),
]


@pytest.mark.parametrize("name,path,value", BREAKAGES,
                         ids=[f"{n}:{'.'.join(map(str, p))}" for n, p, _ in BREAKAGES])
def test_schema_refuses_what_the_contract_does_not_allow(name, path, value):
    schema = name.split(".", 1)[0]
    document = copy.deepcopy(example(name))
    mobile_contract.validate(schema, document)
    _set(document, path, value)
    with pytest.raises(ValidationError):
        mobile_contract.validate(schema, document)
