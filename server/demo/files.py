"""Write the demo county's police roster and school register in campaign.md's formats."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from openpyxl import Workbook

from server.demo.generator import DemoCounty

ROSTER_HEADER = ["姓名", "性别", "公民身份号码", "出生日期", "民族", "户籍地址", "区镇", "村(社区)", "组",
                 "户号", "户主姓名", "与户主关系", "监护人姓名", "联系电话"]
REGISTER_HEADER = ["姓名", "性别", "身份证件号", "学籍号", "学校名称", "学校标识码", "年级", "班级", "在校状态"]
GRADE_NAMES = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "七年级", "八年级", "九年级"]


def roster_rows(county: DemoCounty) -> Iterable[list]:
    """One row a child, as the public-security office exports it."""
    towns = {t.code: t.name for t in county.towns}
    villages = {v.code: v for v in county.villages}
    households = {h.id: h for h in county.households}
    for c in county.children:
        h = households[c.household_id]
        v = villages[c.village_code]
        yield [c.name, "男" if c.gender == "M" else "女", c.id_number, c.birth_date.isoformat(),
               c.ethnicity, h.address, towns[v.town_code], v.name, h.group_name, h.household_number,
               h.head_name, c.relation_to_head, c.guardian_name, c.guardian_phone]


def register_rows(county: DemoCounty) -> Iterable[list]:
    """One row a student, as the 学籍 system exports it (attending children only)."""
    schools = {s.code: s for s in county.schools}
    for c in county.children:
        if c.school_code is None:
            continue
        s = schools[c.school_code]
        yield [c.name, "男" if c.gender == "M" else "女", c.id_number, f"G{c.id_number}",
               s.name, s.code, GRADE_NAMES[c.grade - 1], c.class_name, "在读"]


def _write(path: Path, header: list[str], rows: Iterable[list], fmt: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        # UTF-8 with BOM: what Excel on a bureau's Windows PC opens without garbling.
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
    else:
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Sheet1")
        ws.append(header)
        for row in rows:
            ws.append(row)
        wb.save(path)
    return path


def write_all(county: DemoCounty, out: Path, fmt: str = "csv") -> list[Path]:
    return [
        _write(out / f"police_roster.{fmt}", ROSTER_HEADER, roster_rows(county), fmt),
        _write(out / f"school_register.{fmt}", REGISTER_HEADER, register_rows(county), fmt),
    ]
