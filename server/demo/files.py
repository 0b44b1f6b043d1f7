"""Write the demo county's police roster and school register in campaign.md's formats.

Like the real exports, the files are not clean: a few rows carry the mistakes bureaus see
(a wrong check digit, a village that does not exist, the same child twice, a missing name; and,
beside valid ID numbers, an impossible birth date and a gender the number contradicts, which are
imported with the number's facts and a warning), dates come in several spellings, and the register lists migrant children
(随迁子女) who are in no roster of this county. `Seeded` records each planted mistake so that
tests can check the import's report row by row.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook

from server.campaigns import school_age
from server.demo import names
from server.demo.generator import DemoChild, DemoCounty
from server.people import id_number

ROSTER_HEADER = ["姓名", "性别", "公民身份号码", "出生日期", "民族", "户籍地址", "区镇", "村(社区)", "组",
                 "户号", "户主姓名", "与户主关系", "监护人姓名", "联系电话"]
REGISTER_HEADER = ["姓名", "性别", "身份证件号", "学籍号", "学校名称", "学校标识码", "年级", "班级", "在校状态"]
GRADE_NAMES = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "七年级", "八年级", "九年级"]
FORMATS = {"csv": ("csv", "utf-8-sig"), "gb18030": ("gb18030.csv", "gb18030"), "xlsx": ("xlsx", None)}
# Where migrant families in Hai'an come from (region codes of the ID numbers).
MIGRANT_REGIONS = ["510722", "341221", "522127", "411323", "362426", "130528"]
MIGRANT_SHARE = 0.015


@dataclass(frozen=True)
class Seeded:
    line: int  # as a spreadsheet shows it: the header is line 1
    column: str  # the field the report names
    code: str
    severity: str = "error"  # error: the row is left out; warning: imported, to verify


@dataclass
class Table:
    header: list[str]
    rows: list[list] = field(default_factory=list)
    seeded: list[Seeded] = field(default_factory=list)

    def line_of(self, index: int) -> int:
        return index + 2


def _date_text(rng: random.Random, day: dt.date):
    """Most exports write ISO dates; some offices write them their own way."""
    roll = rng.random()
    if roll < 0.85:
        return day.isoformat()
    if roll < 0.92:
        return f"{day.year}/{day.month}/{day.day}"
    if roll < 0.97:
        return f"{day:%Y%m%d}"
    return f"{day.year}年{day.month}月{day.day}日"


def _bad_count(n: int) -> int:
    return max(1, n // 20000)


def roster_table(county: DemoCounty, *, seed: int | None = None, bad_rows: bool = True) -> Table:
    """One row a child, as the public-security office exports it, with seeded mistakes."""
    rng = random.Random((seed if seed is not None else county.seed) + 1)
    towns = {t.code: t.name for t in county.towns}
    villages = {v.code: v for v in county.villages}
    households = {h.id: h for h in county.households}
    table = Table(list(ROSTER_HEADER))
    for c in county.children:
        h = households[c.household_id]
        v = villages[c.village_code]
        table.rows.append([c.name, "男" if c.gender == "M" else "女", c.id_number, _date_text(rng, c.birth_date),
                           c.ethnicity, h.address, towns[v.town_code], v.name, h.group_name,
                           h.household_number, h.head_name, c.relation_to_head, c.guardian_name,
                           c.guardian_phone])
    if bad_rows and table.rows:
        _seed_roster_mistakes(table, rng)
    return table


def _seed_roster_mistakes(table: Table, rng: random.Random) -> None:
    n = _bad_count(len(table.rows))
    kinds = [("id_number", "id_number.check_digit", "error"), ("village", "place.unknown_village", "error"),
             ("birth_date", "date.impossible", "warning"), ("name", "row.missing_value", "error"),
             ("gender", "id_number.gender_mismatch", "warning")]
    picked = rng.sample(range(len(table.rows)), min(len(table.rows), len(kinds) * n))
    for k, index in enumerate(picked):
        column, code, severity = kinds[k % len(kinds)]
        row = table.rows[index]
        if code == "id_number.check_digit":
            good = row[2]
            row[2] = good[:17] + next(ch for ch in "0123456789X" if ch != good[17])
        elif code == "place.unknown_village":
            row[7] = "无此村"
        elif code == "date.impossible":
            birth = dt.date.fromisoformat(row[3]) if "-" in row[3] else None
            row[3] = f"{birth.year if birth else 2015}-02-30"
        elif code == "id_number.gender_mismatch":
            row[1] = "女" if row[1] == "男" else "男"
        else:
            row[0] = ""
        table.seeded.append(Seeded(table.line_of(index), column, code, severity))

    # The same child twice, pasted over another child's row with a new 户号 (as when a clerk
    # copies a family to register a move): the later copy is bad and the child it covered is lost.
    _seed_duplicates(table, rng, picked, n, household_column=9)


def _seed_duplicates(table: Table, rng: random.Random, picked: list[int], n: int,
                     household_column: int | None = None) -> None:
    clean = [i for i in range(len(table.rows)) if i not in set(picked)]
    if len(clean) < 2:
        return
    for _ in range(n):
        first, later = sorted(rng.sample(clean, 2))
        clean = [i for i in clean if i not in (first, later)]
        copy = list(table.rows[first])
        if household_column is not None:
            copy[household_column] = (copy[household_column] or "") + "B"
        table.rows[later] = copy
        table.seeded.append(Seeded(table.line_of(later), "id_number", "id_number.duplicate_in_file"))
        if len(clean) < 2:
            return


def _school_for(county: DemoCounty, c: DemoChild, grade: int):
    stage = "primary" if grade <= 6 else "junior"
    town = next(v.town_code for v in county.villages if v.code == c.village_code)
    options = [s for s in county.schools if s.town_code == town and s.stage == stage] or \
        [s for s in county.schools if s.stage == stage]
    return options[0]


def register_table(county: DemoCounty, *, seed: int | None = None, bad_rows: bool = True,
                   migrants: bool = True) -> Table:
    """One row a student, as the 学籍 system exports it: attending children, 休学 for those on
    sick leave, 转出 for those who moved away; plus migrant students in no roster."""
    rng = random.Random((seed if seed is not None else county.seed) + 2)
    schools = {s.code: s for s in county.schools}
    table = Table(list(REGISTER_HEADER))
    for c in county.children:
        if c.school_code is not None:
            s = schools[c.school_code]
            table.rows.append([c.name, "男" if c.gender == "M" else "女", c.id_number, f"G{c.id_number}",
                               s.name, s.code, GRADE_NAMES[c.grade - 1], c.class_name, "在读"])
        elif c.out_of_school_reason in ("sick_deferral", "moved_out"):
            grade = school_age.expected_grade(c.birth_date, county.school_year) or 1
            s = _school_for(county, c, grade)
            status = "休学" if c.out_of_school_reason == "sick_deferral" else "转出"
            table.rows.append([c.name, "男" if c.gender == "M" else "女", c.id_number, f"G{c.id_number}",
                               s.name, s.code, GRADE_NAMES[grade - 1], f"{rng.randint(1, 6)}班", status])
    if migrants:
        _add_migrants(county, table, rng)
    if bad_rows and table.rows:
        _seed_register_mistakes(table, rng)
    return table


def _add_migrants(county: DemoCounty, table: Table, rng: random.Random) -> None:
    first, last = school_age.school_age_range(county.school_year)
    span = (last - first).days
    local = [s for s in county.schools if s.stage in ("primary", "junior")]
    for _ in range(max(1, int(len(table.rows) * MIGRANT_SHARE))):
        gender = "M" if rng.random() < 0.52 else "F"
        birth = first + dt.timedelta(days=rng.randrange(span + 1))
        number = id_number.make(rng.choice(MIGRANT_REGIONS), birth,
                                rng.randrange(1, 500) * 2 - (1 if gender == "M" else 0))
        grade = school_age.expected_grade(birth, county.school_year) or 1
        stage = "primary" if grade <= 6 else "junior"
        school = rng.choice([s for s in local if s.stage == stage])
        surname = rng.choice(names.SURNAMES)
        pool = names.GIVEN_BOY if gender == "M" else names.GIVEN_GIRL
        name = surname + "".join(rng.choice(pool) for _ in range(2))
        table.rows.append([name, "男" if gender == "M" else "女", number, f"G{number}", school.name,
                           school.code, GRADE_NAMES[grade - 1], f"{rng.randint(1, 6)}班", "在读"])


def _seed_register_mistakes(table: Table, rng: random.Random) -> None:
    n = _bad_count(len(table.rows))
    picked = rng.sample(range(len(table.rows)), min(len(table.rows), 3 * n))
    kinds = [("id_number", "id_number.check_digit"), ("status", "register.status_unknown"),
             ("name", "row.missing_value")]
    for k, index in enumerate(picked):
        column, code = kinds[k % len(kinds)]
        row = table.rows[index]
        if code == "id_number.check_digit":
            row[2] = row[2][:17] + next(ch for ch in "0123456789X" if ch != row[2][17])
        elif code == "register.status_unknown":
            row[8] = "借读中"
        else:
            row[0] = ""
        table.seeded.append(Seeded(table.line_of(index), column, code))
    _seed_duplicates(table, rng, picked, n)


# A month later (学籍动态监控): of the students attending in the first export, these shares are
# gone without a trace, marked 转出 with no school receiving them, or transferred for real.
LATER_GONE_SHARE = 0.002
LATER_UNRECEIVED_SHARE = 0.001
LATER_TRANSFER_SHARE = 0.003


@dataclass
class LaterRegister(Table):
    gone: list[str] = field(default_factory=list)  # ID numbers simply missing now
    unreceived: list[str] = field(default_factory=list)  # 转出, in no other school's register
    transferred: list[str] = field(default_factory=list)  # 转出 and 在读 at another school


def later_register_table(county: DemoCounty, *, seed: int | None = None) -> LaterRegister:
    """The register exported a month after `register_table` (same school year), clean rows."""
    rng = random.Random((seed if seed is not None else county.seed) + 3)
    first = register_table(county, seed=seed, bad_rows=False)
    later = LaterRegister(list(REGISTER_HEADER))
    attending = [i for i, row in enumerate(first.rows) if row[8] == "在读"]
    n = len(attending)
    picked = rng.sample(attending, min(n, int(n * (LATER_GONE_SHARE + LATER_UNRECEIVED_SHARE
                                                   + LATER_TRANSFER_SHARE)) or 3))
    n_gone = max(1, int(n * LATER_GONE_SHARE))
    n_unreceived = max(1, int(n * LATER_UNRECEIVED_SHARE))
    fate = {i: "gone" for i in picked[:n_gone]}
    fate.update({i: "unreceived" for i in picked[n_gone:n_gone + n_unreceived]})
    fate.update({i: "transferred" for i in picked[n_gone + n_unreceived:]})
    by_stage = {}
    for school in county.schools:
        by_stage.setdefault(school.stage, []).append(school)
    for index, row in enumerate(first.rows):
        what = fate.get(index)
        if what is None:
            later.rows.append(list(row))
        elif what == "gone":
            later.gone.append(row[2])
        else:
            later.rows.append(row[:8] + ["转出"])
            if what == "unreceived":
                later.unreceived.append(row[2])
            else:
                stage = "junior" if row[6] in GRADE_NAMES[6:] else "primary"
                other = rng.choice([s for s in by_stage[stage] if s.code != row[5]])
                later.rows.append(row[:4] + [other.name, other.code, row[6], f"{rng.randint(1, 6)}班", "在读"])
                later.transferred.append(row[2])
    return later


def write_table(path: Path, table_or_header, rows: Iterable[list] | None = None, fmt: str = "csv") -> Path:
    """Write a header and rows as CSV (UTF-8 with BOM, or GB18030) or XLSX."""
    if isinstance(table_or_header, Table):
        header, rows = table_or_header.header, table_or_header.rows
    else:
        header = table_or_header
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt in ("csv", "gb18030"):
        # UTF-8 with BOM is what Excel on a bureau's Windows PC opens without garbling; GB18030
        # is what that Excel writes back when someone saves the file as "CSV".
        with path.open("w", encoding=FORMATS[fmt][1], newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
    else:
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Sheet1")
        ws.append(header)
        for row in rows:
            ws.append([_xlsx_cell(header[i], v) for i, v in enumerate(row)])
        wb.save(path)
    return path


def _xlsx_cell(column: str, value):
    # A workbook keeps a birth date as a real date cell when the text is a clean ISO date.
    if column == "出生日期" and isinstance(value, str) and len(value) == 10 and value[4] == "-":
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def write_all(county: DemoCounty, out: Path, fmt: str = "csv") -> list[Path]:
    """Write the roster and the register in one format: csv, gb18030 or xlsx."""
    suffix = FORMATS[fmt][0]
    return [
        write_table(out / f"police_roster.{suffix}", roster_table(county), fmt=fmt),
        write_table(out / f"school_register.{suffix}", register_table(county), fmt=fmt),
    ]


def write_later_register(county: DemoCounty, out: Path, fmt: str = "csv") -> Path:
    """Write the register of a month later, to import after the first (学籍动态监控)."""
    return write_table(out / f"school_register_later.{FORMATS[fmt][0]}", later_register_table(county), fmt=fmt)
