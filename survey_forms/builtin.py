"""The campaign's built-in forms, defined as code and written out as XLSForm workbooks.

The definitions below are the reviewable source; `survey_forms/xlsforms/*.xlsx` are generated
from them (`python -m survey_forms.builtin`) so the bureau can open, copy and edit them in
Excel, and a test checks that the committed workbooks match. Field names are English and match
the record fields of the people tables; codes match `server/people/statuses.py` exactly.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from survey_forms.model import ENTITY_LISTS, CompiledForm

XLSFORMS_DIR = Path(__file__).resolve().parent / "xlsforms"
VERSION = "2026.1"

# ---------------------------------------------------------------------------------------------
# Code lists (campaign.md). The server keeps the same codes in server/people/statuses.py; this
# package must not import the server, so a test compares the two.

YES_NO = {"yes": "是", "no": "否"}
GENDERS = {"M": "男", "F": "女"}
SURVEY_STATUSES = {"not_visited": "未走访", "visited": "已走访", "confirmed": "已核实"}
VULNERABLE_FAMILY_TYPES = {
    "single_parent": "单亲",
    "poor": "贫困（建档立卡）",
    "parent_disabled": "家长残疾",
    "parents_away": "家长外出务工",
    "raised_by_relatives": "由父母单方或亲属抚养",
}
ENROLLMENT_STATUSES = {
    "enrolled_unconfirmed": "在读（待核实）",
    "enrolled": "在读",
    "home_teaching": "送教上门",
    "sick_deferral": "因病缓学/休学",
    "moved_out": "异地就读",
    "abroad": "出国",
    "deceased": "死亡",
    "suspected_out_of_school": "疑似未入学/辍学",
    "never_enrolled": "未入学",
    "dropped_out": "辍学",
    "suspended": "休学（待核实）",
    "transferred_out": "转出（待核实）",
    "not_school_age": "非适龄",
}
DROPOUT_REASONS = {
    "weary_of_study": "厌学",
    "poverty": "家庭经济困难",
    "working": "外出务工",
    "health_disability": "身体原因/残疾",
    "family_crisis": "家庭变故",
    "early_marriage": "早婚",
    "other": "其他",
}
DISABILITY_TYPES = {
    "visual": "视力残疾",
    "hearing": "听力残疾",
    "speech": "言语残疾",
    "physical": "肢体残疾",
    "intellectual": "智力残疾",
    "mental": "精神残疾",
    "multiple": "多重残疾",
}
VISIT_OUTCOMES = {
    "persuaded": "同意返校",
    "returned": "已返校复学",
    "refused": "拒绝返校",
    "not_found": "未见到学生或家长",
    "sick_deferral": "因病需缓学（有证明）",
    "moved_out": "已在外地就读",
    "other": "其他",
}
NEXT_STEPS = {
    "revisit": "再次走访",
    "report_to_town": "上报区镇政府",
    "issue_notice": "发放通知书",
    "support_plan": "制定帮扶方案（一家一案）",
    "school_confirm": "请学校确认报到",
    "closed": "结案",
}

# Mobile numbers, or landlines with an area code: many rural households only have the latter.
PHONE = r"regex(., '^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$')"
PHONE_MESSAGE = "请填写11位手机号，或带区号的固定电话"
# Certificates must stay legible (hospital stamps, receipts), so keep photos fairly large.
PHOTO_PARAMETERS = "max-pixels=2000"


def _one_of(field_name: str, codes: Iterable[str]) -> str:
    return " or ".join(f"${{{field_name}}} = '{code}'" for code in codes)


# Which statuses make the school fields or the dropout reason relevant.
ATTENDING = ("enrolled_unconfirmed", "enrolled", "home_teaching", "moved_out")
OUT_OF_SCHOOL = ("suspected_out_of_school", "never_enrolled", "dropped_out")


# ---------------------------------------------------------------------------------------------
# Definitions


@dataclass(frozen=True)
class Question:
    """One survey-sheet row."""

    type: str
    name: str | None = None
    label: str | None = None
    hint: str | None = None
    required: str | None = None
    relevant: str | None = None
    constraint: str | None = None
    constraint_message: str | None = None
    appearance: str | None = None
    parameters: str | None = None
    merge_policy: str | None = None
    record_field: str | None = None
    renamed_from: str | None = None
    # ODK entities (XForm clients such as ODK Collect; our own tablets ignore these columns):
    # the entity property a question saves to, and the prefill from the picked entity.
    save_to: str | None = None
    calculation: str | None = None
    trigger: str | None = None
    choice_filter: str | None = None


@dataclass(frozen=True)
class EntityDeclaration:
    """One row of the XLSForm `entities` sheet (pyxform's entities spec)."""

    list_name: str
    entity_id: str
    label: str
    create_if: str | None = None
    update_if: str | None = None


SURVEY_COLUMNS = tuple(f.name for f in fields(Question))


@dataclass(frozen=True)
class FormDefinition:
    """A form as code: settings, questions and choice lists."""

    form_id: str
    title: str
    record_type: str
    questions: tuple[Question, ...]
    choices: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    version: str = VERSION
    entity: EntityDeclaration | None = None

    def sheets(self) -> dict[str, list[list[Any]]]:
        """Return the survey, choices and settings sheets as rows (headers first)."""
        used = [c for c in SURVEY_COLUMNS if any(getattr(q, c) for q in self.questions)]
        survey = [used] + [[getattr(q, c) for c in used] for q in self.questions]
        choices = [["list_name", "name", "label"]] + [
            [list_name, value, label]
            for list_name, values in self.choices.items()
            for value, label in values.items()
        ]
        settings = [
            ["form_title", "form_id", "version", "record_type"],
            [self.title, self.form_id, self.version, self.record_type],
        ]
        sheets = {"survey": survey, "choices": choices, "settings": settings}
        if self.entity is not None:
            columns = ("list_name", "entity_id", "label", "create_if", "update_if")
            used_columns = [c for c in columns if getattr(self.entity, c)]
            sheets["entities"] = [used_columns, [getattr(self.entity, c) for c in used_columns]]
        return sheets

    def to_xlsx(self) -> bytes:
        """Return the form as XLSForm workbook bytes."""
        return xlsx_bytes(self.sheets())

    @property
    def file_name(self) -> str:
        """Return the workbook's file name."""
        return f"{self.form_id}.xlsx"


def _q(type_: str, name: str | None = None, label: str | None = None, **columns: Any) -> Question:
    if columns.get("required") is True:
        columns["required"] = "yes"
    return Question(type_, name, label, **columns)


def _max_length(n: int) -> str:
    return f"string-length(.) <= {n}"


# ---------------------------------------------------------------------------------------------
# ODK entities: XForm clients (ODK Collect, Enketo) pick the household or child a form is about
# from an entity list the server publishes per device (only that tablet's villages), and the
# form updates that record. The lists are named after the record type (`sync/records.py`
# ENTITY_LISTS); the server builds them with the entity properties the forms save to.

HOUSEHOLDS = ENTITY_LISTS["household"]
CHILDREN = ENTITY_LISTS["child"]
# Answer types a picked entity can prefill (an image is a file on the tablet that took it).
_PREFILLED_TYPES = ("text", "integer", "date", "geopoint", "select_one", "select_multiple")


def _pick(list_name: str, name: str, label: str, **columns: Any) -> Question:
    # A village lists hundreds of households: the surveyor types part of a name or 组/号 and
    # picks from what matches (ODK's autocomplete appearance), rather than scrolling a list.
    return _q(f"select_one_from_file {list_name}.csv", name, label, appearance="autocomplete", **columns)


def _saving_to(
    list_name: str,
    pick: str,
    questions: Iterable[Question],
    *,
    properties: Mapping[str, str] | None = None,
    unsaved: Iterable[str] = (),
) -> tuple[Question, ...]:
    """Questions that start from the picked entity's value and save back to it.

    Each answer gets `save_to` (its entity property, the record field unless `properties`
    renames it: `name` and `label` are the entity's own) and a prefill from the entity list
    when the pick changes (`calculation` + `trigger`), so an unchanged answer equals the base
    version and the server's field-level merge applies only what the surveyor changed."""
    renamed, skipped = dict(properties or {}), set(unsaved)
    out = []
    for question in questions:
        kind = question.type.split(" ")[0]
        if question.name is None or kind not in _PREFILLED_TYPES or question.name in skipped:
            out.append(question)
            continue
        prop = renamed.get(question.name, question.name)
        out.append(replace(
            question,
            save_to=prop,
            calculation=f"instance('{list_name}')/root/item[name=${{{pick}}}]/{prop}",
            trigger=f"${{{pick}}}",
        ))
    return tuple(out)


# When the form was started and finished: the server orders one tablet's edits by it.
_TIMES = (_q("start", "start"), _q("end", "end"))


HOUSEHOLD_SURVEY = FormDefinition(
    form_id="household_survey",
    title="住户摸底调查表",
    record_type="household",
    questions=(
        _pick(HOUSEHOLDS, "household_pick", "选择住户", required=True, hint="本平板所包村的住户"),
        *_saving_to(HOUSEHOLDS, "household_pick", (
        _q("begin_group", "household", "住户信息"),
        _q("text", "head_name", "户主姓名", required=True, constraint=_max_length(50)),
        _q("text", "phone", "联系电话", constraint=PHONE, constraint_message=PHONE_MESSAGE),
        _q("text", "address", "住址", constraint=_max_length(200)),
        _q("text", "group_name", "组", constraint=_max_length(20)),
        _q("text", "household_number", "户号", constraint=_max_length(30)),
        _q("end_group"),
        _q("geopoint", "location", "住户位置（GPS）", hint="请在住户门口采集"),
        # Two teams visit the same household; once one has confirmed it, a late upload from a
        # tablet that only saw it "visited" must not undo that.
        _q(
            "select_one survey_status",
            "survey_status",
            "走访状态",
            required=True,
            merge_policy="monotonic",
        ),
        # Each line of the 双线控辍 may spot a different hardship; keep every one reported.
        _q(
            "select_multiple vulnerable_family_types",
            "vulnerable_family_types",
            "五种弱势家庭",
            hint="可多选；都不是则不选",
            merge_policy="union",
        ),
        _q("text", "notes", "备注", appearance="multiline", constraint=_max_length(500)),
        )),
        *_TIMES,
    ),
    choices={
        "survey_status": SURVEY_STATUSES,
        "vulnerable_family_types": VULNERABLE_FAMILY_TYPES,
    },
    # Households come from the public-security roster: the form updates one, never creates.
    entity=EntityDeclaration(HOUSEHOLDS, "${household_pick}", "${head_name}"),
)

CHILD_SURVEY = FormDefinition(
    form_id="child_survey",
    title="适龄儿童少年调查表",
    record_type="child",
    questions=(
        _pick(HOUSEHOLDS, "household_pick", "所在住户", required=True),
        _pick(CHILDREN, "child_pick", "选择儿童", hint="花名册外的新儿童不选，直接填写下面各项",
              choice_filter="household=${household_pick}"),
        # A new child's id, made once on the tablet: its later edits name the same record.
        _q("calculate", "new_child_id", calculation="once(uuid())"),
        *_saving_to(CHILDREN, "child_pick", (
        _q("begin_group", "basic", "基本信息"),
        _q("text", "name", "姓名", required=True, constraint=_max_length(50)),
        _q("select_one gender", "gender", "性别", required=True),
        # Birth date and ID number come from the public-security roster: a tablet's differing
        # value waits for a supervisor instead of overwriting the roster.
        _q(
            "date",
            "birth_date",
            "出生日期",
            required=True,
            constraint=". <= today()",
            constraint_message="出生日期不能晚于今天",
            merge_policy="manual",
        ),
        _q(
            "text",
            "id_number",
            "公民身份号码",
            constraint="regex(., '^[0-9]{17}[0-9X]$')",
            constraint_message="18位，最后一位可为数字或大写X",
            merge_policy="manual",
        ),
        _q("end_group"),
        _q("begin_group", "schooling", "就学情况"),
        _q("select_one enrollment_status", "enrollment_status", "就学状态", required=True),
        _q(
            "text",
            "school_name",
            "就读学校",
            required=True,
            relevant=_one_of("enrollment_status", ATTENDING),
            constraint=_max_length(100),
        ),
        _q(
            "integer",
            "grade",
            "年级",
            relevant=_one_of("enrollment_status", ATTENDING),
            constraint=". >= 1 and . <= 12",
            constraint_message="年级为1到12",
        ),
        _q(
            "select_one dropout_reason",
            "dropout_reason",
            "未入学/辍学原因",
            required=True,
            relevant=" or ".join(f"selected(${{enrollment_status}}, '{s}')" for s in OUT_OF_SCHOOL),
        ),
        _q(
            "text",
            "dropout_reason_note",
            "其他原因说明",
            required=True,
            relevant="selected(${dropout_reason}, 'other')",
            appearance="multiline",
            constraint=_max_length(500),
        ),
        _q(
            "image",
            "certificate_photo",
            "县级及以上医院证明（照片）",
            hint="因病缓学/休学须有县级及以上医院证明",
            relevant="${enrollment_status} = 'sick_deferral'",
            parameters=PHOTO_PARAMETERS,
        ),
        _q("end_group"),
        _q("begin_group", "disability_group", "残疾情况"),
        _q("select_one yes_no", "disability", "是否残疾", required=True),
        _q(
            "select_one disability_type",
            "disability_type",
            "残疾类别",
            required=True,
            relevant="${disability} = 'yes'",
        ),
        _q(
            "integer",
            "disability_level",
            "残疾等级",
            hint="1（一级，最重）到 4（四级）",
            relevant="${disability} = 'yes'",
            constraint=". >= 1 and . <= 4",
            constraint_message="残疾等级为1到4级",
        ),
        _q("end_group"),
        _q("begin_group", "family", "家庭情况"),
        _q("select_one yes_no", "left_behind", "是否留守儿童", required=True),
        _q("select_one yes_no", "migrant", "是否随迁子女", required=True),
        _q("text", "guardian_name", "监护人姓名", constraint=_max_length(50)),
        _q(
            "text",
            "guardian_phone",
            "监护人电话",
            constraint=PHONE,
            constraint_message=PHONE_MESSAGE,
        ),
        _q("end_group"),
        # The entity's own `name` is its id; a tablet never receives an ID number.
        ), properties={"name": "child_name"}, unsaved=("id_number",)),
        *_TIMES,
    ),
    choices={
        "gender": GENDERS,
        "enrollment_status": ENROLLMENT_STATUSES,
        "dropout_reason": DROPOUT_REASONS,
        "yes_no": YES_NO,
        "disability_type": DISABILITY_TYPES,
    },
    # A child on the roster is updated; one the roster missed is created on the tablet.
    entity=EntityDeclaration(
        CHILDREN,
        "coalesce(${child_pick}, ${new_child_id})",
        "${name}",
        create_if="${child_pick} = ''",
        update_if="${child_pick} != ''",
    ),
)

FOLLOWUP_VISIT = FormDefinition(
    form_id="followup_visit",
    title="劝返走访记录",
    record_type="visit",
    questions=(
        _pick(CHILDREN, "child_pick", "走访的儿童", required=True),
        _q(
            "text",
            "visitors",
            "走访人员",
            required=True,
            hint="多人用顿号分隔",
            constraint=_max_length(200),
        ),
        _q(
            "date",
            "visit_date",
            "走访日期",
            required=True,
            constraint=". <= today()",
            constraint_message="走访日期不能晚于今天",
        ),
        _q("select_one outcome", "outcome", "走访结果", required=True),
        _q("select_one next_step", "next_step", "下一步措施", required=True),
        # Failed persuasion goes to the town government, which sets a deadline (限期).
        _q(
            "date",
            "deadline",
            "限期",
            required=True,
            relevant=_one_of("next_step", ("report_to_town", "issue_notice")),
        ),
        _q("image", "visit_photo", "走访照片", parameters=PHOTO_PARAMETERS),
        _q(
            "image",
            "certificate_photo",
            "证明材料照片",
            hint="医院证明、接收学校回执等",
            relevant=_one_of("outcome", ("sick_deferral", "moved_out")),
            parameters=PHOTO_PARAMETERS,
        ),
        _q("text", "note", "情况说明", appearance="multiline", constraint=_max_length(1000)),
        *_TIMES,
    ),
    choices={"outcome": VISIT_OUTCOMES, "next_step": NEXT_STEPS},
)

BUILTIN_FORMS: tuple[FormDefinition, ...] = (HOUSEHOLD_SURVEY, CHILD_SURVEY, FOLLOWUP_VISIT)


# ---------------------------------------------------------------------------------------------
# Workbooks

# A fixed timestamp inside the workbook: the same definitions give byte-identical files, so git
# shows a change only when a form changed.
_FIXED_TIME = (2026, 1, 1, 0, 0, 0)
_MODIFIED = re.compile(rb"<dcterms:modified([^>]*)>[^<]*</dcterms:modified>")


def xlsx_bytes(sheets: Mapping[str, Sequence[Sequence[Any]]]) -> bytes:
    """Write sheets of rows (headers first) into reproducible .xlsx bytes."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _normalise_zip(buffer.getvalue())


def _normalise_zip(data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _MODIFIED.sub(
                    rb"<dcterms:modified\1>2026-01-01T00:00:00Z</dcterms:modified>", content
                )
                content = re.sub(
                    rb"(<dcterms:created[^>]*>)[^<]*(</dcterms:created>)",
                    rb"\g<1>2026-01-01T00:00:00Z\2",
                    content,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, content)
    return out.getvalue()


def builtin_xlsforms() -> dict[str, bytes]:
    """Return each built-in form's workbook bytes by file name."""
    return {form.file_name: form.to_xlsx() for form in BUILTIN_FORMS}


def write_builtin_xlsforms(directory: Path = XLSFORMS_DIR) -> list[Path]:
    """Write the built-in forms' workbooks into a directory."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, data in builtin_xlsforms().items():
        path = directory / file_name
        path.write_bytes(data)
        written.append(path)
    return written


def compile_builtin_forms() -> dict[str, CompiledForm]:
    """Compile the built-in forms, by form_id."""
    from survey_forms.compiler import compile_xlsform

    return {
        form.form_id: compile_xlsform(form.to_xlsx(), file_type=".xlsx") for form in BUILTIN_FORMS
    }


if __name__ == "__main__":
    for written_path in write_builtin_xlsforms():
        print(written_path)
