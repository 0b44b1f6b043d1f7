"""Header names as bureaus write them, mapped to the import's field names.

Pure: no Flask, no SQLAlchemy. A header is normalised (blanks, full-width brackets, required
markers like "*" or "（必填）" removed) before it is looked up, so "村（社区）", "村(社区)" and
" *村(社区) " are the same column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# field -> header variants (already normalised: no blanks, half-width brackets)
ROSTER_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "儿童姓名", "学生姓名"),
    "gender": ("性别",),
    "id_number": ("公民身份号码", "身份证号", "身份证号码", "身份证件号", "身份证件号码", "证件号码",
                  "公民身份证号", "公民身份证号码"),
    "birth_date": ("出生日期", "出生年月日", "出生年月", "生日"),
    "ethnicity": ("民族",),
    "address": ("户籍地址", "户籍地", "户籍地详址", "住址", "家庭住址", "地址", "现住址"),
    "town": ("区镇", "乡镇", "乡镇(街道)", "镇(街道)", "区镇(街道)", "街道", "所属区镇", "所属乡镇",
             "乡镇街道", "区镇名称", "乡镇名称"),
    "village": ("村(社区)", "村(居)", "村居", "村", "社区", "村(居)委会", "村委会", "居委会",
                "所属村居", "所属村(社区)", "村社区", "村(社区)名称", "村居名称"),
    "village_code": ("村(社区)代码", "村居代码", "村代码", "区划代码", "统计用区划代码", "村(居)代码"),
    "group": ("组", "村民小组", "小组", "村(居)民小组", "组别"),
    "household_number": ("户号",),
    "head_name": ("户主姓名", "户主"),
    "relation_to_head": ("与户主关系", "与户主关系名称"),
    "guardian_name": ("监护人姓名", "监护人"),
    "guardian_phone": ("联系电话", "监护人电话", "监护人联系电话", "联系方式", "手机号码", "电话",
                       "手机"),
}
ROSTER_REQUIRED = ("name", "gender", "id_number")

REGISTER_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "学生姓名"),
    "gender": ("性别",),
    "id_number": ("身份证件号", "身份证件号码", "身份证号", "身份证号码", "公民身份号码", "证件号码",
                  "证件号"),
    "student_number": ("学籍号", "全国学籍号", "学籍编号", "个人标识码"),
    "school_name": ("学校名称", "学校", "就读学校", "所在学校"),
    "school_code": ("学校标识码", "学校代码", "学校识别码"),
    "grade": ("年级", "年级名称", "所在年级"),
    "class_name": ("班级", "班级名称", "班号", "所在班级"),
    "status": ("在校状态", "学籍状态", "学生状态", "状态", "就读状态"),
}
REGISTER_REQUIRED = ("name", "id_number", "grade", "status")

# The Chinese name each field is reported under when its column is missing.
LABELS = {
    "name": "姓名", "gender": "性别", "id_number": "公民身份号码", "birth_date": "出生日期",
    "ethnicity": "民族", "address": "户籍地址", "town": "区镇", "village": "村(社区)",
    "village_code": "村(社区)代码", "group": "组", "household_number": "户号", "head_name": "户主姓名",
    "relation_to_head": "与户主关系", "guardian_name": "监护人姓名", "guardian_phone": "联系电话",
    "student_number": "学籍号", "school_name": "学校名称", "school_code": "学校标识码", "grade": "年级",
    "class_name": "班级", "status": "在校状态",
}

_FULL_WIDTH = str.maketrans("（）【】［］", "()()()")
_NOISE = re.compile(r"[\s\u3000\ufeff*＊:：]|\((必填|选填|必须)\)")


def normalise(header: object) -> str:
    """The header as looked up: no blanks, BOM, required markers or full-width brackets."""
    if header is None:
        return ""
    text = str(header).translate(_FULL_WIDTH)
    return _NOISE.sub("", text)


@dataclass(frozen=True)
class ColumnMap:
    """Which column of the file holds which field, and what the file called it."""

    positions: dict[str, int]
    headers: dict[str, str]
    unknown: list[str]

    def missing(self, required: tuple[str, ...]) -> list[str]:
        return [f for f in required if f not in self.positions]


def _lookup(fields: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {variant: name for name, variants in fields.items() for variant in variants}


ROSTER_LOOKUP = _lookup(ROSTER_FIELDS)
REGISTER_LOOKUP = _lookup(REGISTER_FIELDS)


def map_columns(header_row: list, kind: str) -> ColumnMap:
    """Map a header row to fields; the first column wins when two name the same field."""
    lookup = ROSTER_LOOKUP if kind == "roster" else REGISTER_LOOKUP
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    unknown: list[str] = []
    for index, raw in enumerate(header_row):
        key = normalise(raw)
        if not key:
            continue
        field = lookup.get(key)
        if field is None:
            unknown.append(str(raw).strip())
        elif field not in positions:
            positions[field] = index
            headers[field] = str(raw).strip()
    return ColumnMap(positions, headers, unknown)


def score(header_row: list, kind: str) -> int:
    """How many cells of a row are known header names (to find the header under a title)."""
    lookup = ROSTER_LOOKUP if kind == "roster" else REGISTER_LOOKUP
    return sum(1 for cell in header_row if normalise(cell) in lookup)
