"""Checking one row of a roster or register: every problem of the row, each with a stable code.

Pure: no Flask, no SQLAlchemy. Places are resolved against a `PlaceIndex` the service builds
from the database.

Each problem has a severity. An *error* keeps the row out of the import (reported, never
dropped silently); the other rows go on. A *warning* is a row imported all the same, with
something the bureau should verify. The only warnings are of the birth-date and gender cells
next to a valid ID number (GB 11643 check passes): the number is authoritative (it is what the
police and the school register key on), so the child is imported with the number's birth date
and gender, and the warning names the cell, what it said and what was imported. Dropping such
a row would leave the child out of the campaign over a cell that only repeats the number. The
same cells beside a missing or invalid number are errors: the row is out for its number anyway.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace

from server.imports import values
from server.imports.headers import LABELS, ColumnMap
from server.people import id_number as idn

ERROR, WARNING = "error", "warning"
SEVERITIES = (ERROR, WARNING)

# Stable row-level codes, with what they mean (the report's legend and the docs). A code says
# what is wrong with the cell; the problem's severity says what the import did with the row.
ROW_CODES = {
    "row.missing_value": "必填项为空",
    "value.too_long": "内容超过长度上限",
    "id_number.format": "身份证号格式错误（应为18位，末位可为X）",
    "id_number.check_digit": "身份证号校验码错误",
    "id_number.birth_date": "身份证号中的出生日期不存在",
    "id_number.birth_date_mismatch": "身份证号中的出生日期与出生日期列不一致",
    "id_number.gender_mismatch": "身份证号中的性别与性别列不一致",
    "id_number.duplicate_in_file": "身份证号在本文件中重复",
    "date.invalid": "日期无法识别",
    "date.impossible": "日期不存在（没有这一天，如2月30日或13月）",
    "gender.invalid": "性别无法识别（应为 男/女、M/F 或 1/2）",
    "place.unknown_town": "区镇不存在",
    "place.unknown_village": "村(社区)在该区镇中不存在",
    "place.ambiguous_village": "多个区镇有同名村(社区)，请填写区镇",
    "place.out_of_scope": "该村(社区)不在您负责的区镇",
    "register.grade_invalid": "年级无法识别",
    "register.status_unknown": "在校状态无法识别",
}
SEVERITY_LABELS = {ERROR: "错误（未导入）", WARNING: "警告（已导入，请核实）"}
GENDER_LABELS = {"M": "男", "F": "女"}
_DATE_FORMATS = "可用 2013-04-02、2013/4/2、20130402 或 2013年4月2日"

MAX_LENGTHS = {
    "name": 50, "ethnicity": 20, "address": 200, "group": 20, "household_number": 30,
    "head_name": 50, "relation_to_head": 20, "guardian_name": 50, "guardian_phone": 30,
    "student_number": 30, "school_name": 100, "school_code": 10, "class_name": 20,
}
PLACE_TEXT_MAX = 100


@dataclass(frozen=True)
class Problem:
    line: int
    column: str | None  # our field name
    header: str | None  # the column as the file names it
    code: str
    message: str
    value: str | None = None  # what the file said (ID numbers masked)
    severity: str = ERROR
    # A warning's value the row was imported with instead of `value` (the ID number's).
    imported_value: str | None = None
    # Where the bureau finds the row's child: as the file wrote them (a resolved place's name
    # where the file gave a code only).
    name: str | None = None
    town: str | None = None
    village: str | None = None


_PLACE_NOISE = re.compile(r"[\s\u3000]")
_VILLAGE_SUFFIXES = ("村民委员会", "居民委员会", "村委会", "居委会", "社区", "村")
_TOWN_SUFFIXES = ("人民政府", "街道办事处", "街道", "镇", "乡", "开发区", "高新区")


def _place_key(name: str) -> str:
    return _PLACE_NOISE.sub("", name).translate(str.maketrans("（）", "()"))


def _short(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


@dataclass
class PlaceIndex:
    """Towns and villages by code and by name (full, or without 村/社区/镇/街道)."""

    village_town: dict[str, str] = field(default_factory=dict)  # village code -> town code
    town_codes: set[str] = field(default_factory=set)
    towns_by_name: dict[str, str] = field(default_factory=dict)
    villages_in_town: dict[tuple[str, str], str] = field(default_factory=dict)
    villages_by_name: dict[str, set[str]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # town or village code -> its name

    @classmethod
    def build(cls, towns: list[tuple[str, str]], villages: list[tuple[str, str, str]]) -> PlaceIndex:
        """From (code, name) of towns and (code, town_code, name) of villages."""
        index = cls()
        for code, name in towns:
            index.town_codes.add(code)
            index.names[code] = name
            key = _place_key(name)
            index.towns_by_name[key] = code
            index.towns_by_name.setdefault(_short(key, _TOWN_SUFFIXES), code)
        for code, town_code, name in villages:
            index.village_town[code] = town_code
            index.names[code] = name
            key = _place_key(name)
            for variant in {key, _short(key, _VILLAGE_SUFFIXES)}:
                index.villages_in_town.setdefault((town_code, variant), code)
                index.villages_by_name.setdefault(variant, set()).add(code)
        return index

    def town(self, cell: str) -> str | None:
        if cell in self.town_codes:
            return cell
        key = _place_key(cell)
        return self.towns_by_name.get(key) or self.towns_by_name.get(_short(key, _TOWN_SUFFIXES))

    def village(self, town_code: str | None, cell: str) -> tuple[str | None, str | None]:
        """(village code, None) or (None, problem code)."""
        if cell.isdigit() and len(cell) == 12:
            if cell in self.village_town and (town_code is None or self.village_town[cell] == town_code):
                return cell, None
            return None, "place.unknown_village"
        key = _place_key(cell)
        variants = (key, _short(key, _VILLAGE_SUFFIXES))
        if town_code is not None:
            for variant in variants:
                found = self.villages_in_town.get((town_code, variant))
                if found:
                    return found, None
            return None, "place.unknown_village"
        for variant in variants:
            codes = self.villages_by_name.get(variant)
            if codes:
                return (next(iter(codes)), None) if len(codes) == 1 else (None, "place.ambiguous_village")
        return None, "place.unknown_village"


class _RowChecker:
    """What both parsers share: reading cells by field, collecting problems."""

    required: tuple[str, ...] = ()

    def __init__(self, columns: ColumnMap):
        self.columns = columns
        self.positions = columns.positions
        self._plans: dict[tuple, list] = {}

    def cell(self, cells: list, name: str):
        index = self.positions.get(name)
        if index is None or index >= len(cells):
            return None
        return cells[index]

    def _text_cell(self, cells: list, name: str) -> str | None:
        index = self.positions.get(name)
        if index is None or index >= len(cells):
            return None
        raw = cells[index]
        if type(raw) is str:
            return raw.strip() or None
        return values.text(raw)

    def header(self, name: str) -> str:
        return self.columns.headers.get(name, LABELS.get(name, name))

    def problem(self, problems: list, line: int, name: str | None, code: str, detail: str = "",
                value: object = None, *, severity: str = ERROR, imported_value: str | None = None) -> None:
        message = ROW_CODES[code] + (f"：{detail}" if detail else "")
        shown = values.text(value)
        if shown is not None and name == "id_number":
            # Reports stay on disk and in mailboxes: the ID number is masked like everywhere else.
            shown = idn.mask(idn.normalize(shown))
        elif shown is not None:
            shown = shown[:200]
        problems.append(Problem(line, name, self.header(name) if name else None, code, message, shown,
                                severity, imported_value))

    def texts(self, cells: list, line: int, problems: list, names: tuple[str, ...]) -> dict:
        # This runs for every row of files of 100,000 rows: the column positions and limits
        # are looked up once per parser, and the common case (a short string) stays inline.
        plan = self._plans.get(names)
        if plan is None:
            plan = self._plans[names] = [(name, self.positions.get(name), MAX_LENGTHS.get(name, 200),
                                          name in self.required) for name in names]
        width = len(cells)
        out = {}
        for name, index, limit, required in plan:
            raw = cells[index] if index is not None and index < width else None
            value = (raw.strip() or None) if type(raw) is str else values.text(raw)
            if value is None:
                if required:
                    self.problem(problems, line, name, "row.missing_value", self.header(name))
            elif len(value) > limit:
                self.problem(problems, line, name, "value.too_long", f"最多 {limit} 个字", value)
                value = None
            out[name] = value
        return out

    def person_facts(self, cells: list, line: int, problems: list, *, gender_required: bool,
                     with_birth_date: bool) -> tuple[idn.IdNumberCheck | None, dt.date | None, str | None]:
        """The row's checked ID number, birth date and gender; the number is authoritative.

        With a valid number the birth date and gender are the number's: a birth-date or gender
        cell that disagrees with it, cannot be read, names no real day, or is blank where the
        column is required, is a warning (the row is imported). Without one, those cells'
        problems are errors and the number is None (the row stays out).
        """
        cell_problems: list[tuple] = []  # (column, code, detail, raw): severity decided below
        gender = self._gender_cell(cells, cell_problems, gender_required)
        birth_date = self._birth_date_cell(cells, cell_problems) if with_birth_date else None
        raw = self.cell(cells, "id_number")
        number = values.text(raw)
        if number is None:
            self.problem(problems, line, "id_number", "row.missing_value", self.header("id_number"))
            checked = None
        else:
            checked = idn.check(number, birth_date=birth_date, gender=gender)
            for code in checked.errors:
                detail = ""
                if code == "id_number.check_digit":
                    detail = f"第18位应为 {idn.check_digit(checked.value[:17])}"
                self.problem(problems, line, "id_number", code, detail, raw)
        if checked is None or not checked.ok:
            for column, code, detail, cell in cell_problems:
                self.problem(problems, line, column, code, detail, cell)
            if checked is not None:
                for code in checked.warnings:
                    # Beside a broken number, a disagreeing cell may be the one that is right.
                    self.problem(problems, line, "id_number", code, "", raw)
            return None, birth_date, gender
        facts = {"birth_date": checked.birth_date.isoformat(), "gender": GENDER_LABELS[checked.gender]}
        for column, code, detail, cell in cell_problems:
            imported = facts[column]
            self.problem(problems, line, column, code,
                         (f"{detail}；" if detail else "") + f"已按身份证号导入为 {imported}，请核实", cell,
                         severity=WARNING, imported_value=imported)
        for code in checked.warnings:
            column = "birth_date" if code == "id_number.birth_date_mismatch" else "gender"
            said = birth_date.isoformat() if column == "birth_date" else GENDER_LABELS[gender]
            imported = facts[column]
            self.problem(problems, line, column, code,
                         f"{self.header(column)}列为 {said}，身份证号为 {imported}；已按身份证号导入，请核实",
                         self.cell(cells, column), severity=WARNING, imported_value=imported)
        return checked, checked.birth_date, checked.gender

    def _gender_cell(self, cells: list, cell_problems: list, required: bool) -> str | None:
        raw = self.cell(cells, "gender")
        if values.text(raw) is None:
            if required:
                cell_problems.append(("gender", "row.missing_value", self.header("gender"), None))
            return None
        try:
            return values.gender(raw)
        except ValueError:
            cell_problems.append(("gender", "gender.invalid", "", raw))
            return None

    def _birth_date_cell(self, cells: list, cell_problems: list) -> dt.date | None:
        raw = self.cell(cells, "birth_date")
        if values.text(raw) is None:
            return None  # the number's birth date, with nothing to verify
        try:
            return values.date(raw)
        except values.ImpossibleDate:
            cell_problems.append(("birth_date", "date.impossible", "", raw))
        except ValueError:
            cell_problems.append(("birth_date", "date.invalid", _DATE_FORMATS, raw))
        return None


def has_errors(problems: list[Problem]) -> bool:
    return any(p.severity == ERROR for p in problems)


def _clip(value: object, limit: int) -> str | None:
    shown = values.text(value)
    return None if shown is None else shown[:limit]


@dataclass(frozen=True)
class RosterRow:
    line: int
    id_number: str
    name: str
    gender: str
    birth_date: dt.date
    ethnicity: str | None
    village_code: str
    group_name: str | None
    household_number: str | None
    address: str | None
    head_name: str | None
    relation_to_head: str | None
    guardian_name: str | None
    guardian_phone: str | None


class RosterParser(_RowChecker):
    required = ("name",)

    def __init__(self, columns: ColumnMap, places: PlaceIndex, allowed_town: str | None = None):
        super().__init__(columns)
        self.places = places
        self.allowed_town = allowed_town
        self.seen: dict[str, int] = {}
        # A county has a few hundred villages and a roster 100,000 rows: resolve each spelling once.
        self._resolved: dict[tuple, tuple[str | None, tuple | None]] = {}

    def parse(self, line: int, cells: list) -> tuple[RosterRow | None, list[Problem]]:
        problems: list[Problem] = []
        t = self.texts(cells, line, problems, (
            "name", "ethnicity", "address", "group", "household_number", "head_name",
            "relation_to_head", "guardian_name", "guardian_phone"))
        checked, _birth_date, gender = self.person_facts(cells, line, problems, gender_required=True,
                                                         with_birth_date=True)
        village_code = self._village(cells, line, problems)
        if checked is not None:
            first = self.seen.get(checked.value)
            if first is not None:
                self.problem(problems, line, "id_number", "id_number.duplicate_in_file",
                             f"与第 {first} 行相同", checked.value)
                checked = None
            elif not has_errors(problems):
                self.seen[checked.value] = line
        if problems:
            problems = self._located(problems, cells, village_code)
        if checked is None or village_code is None or has_errors(problems):
            return None, problems
        return RosterRow(
            line, checked.value, t["name"], gender, checked.birth_date, t["ethnicity"],
            village_code, t["group"], t["household_number"], t["address"], t["head_name"],
            t["relation_to_head"], t["guardian_name"], t["guardian_phone"],
        ), problems

    def _located(self, problems: list[Problem], cells: list, village_code: str | None) -> list[Problem]:
        """The row's problems with the child's name, town and village, for the bureau to find it."""
        town = self._text_cell(cells, "town")
        village = self._text_cell(cells, "village") or self._text_cell(cells, "village_code")
        if village_code is not None:
            town = town or self.places.names.get(self.places.village_town[village_code])
            if self._text_cell(cells, "village") is None:
                village = self.places.names.get(village_code, village)
        where = {"name": _clip(self.cell(cells, "name"), MAX_LENGTHS["name"]),
                 "town": town and town[:PLACE_TEXT_MAX], "village": village and village[:PLACE_TEXT_MAX]}
        return [replace(p, **where) for p in problems]

    def _village(self, cells: list, line: int, problems: list) -> str | None:
        key = (self._text_cell(cells, "town"), self._text_cell(cells, "village_code"),
               self._text_cell(cells, "village"))
        resolved = self._resolved.get(key)
        if resolved is None:
            resolved = self._resolved[key] = self._resolve(*key)
        found, problem = resolved
        if problem is not None:
            column, code, detail, raw = problem
            self.problem(problems, line, column, code, detail, raw)
        return found

    def _resolve(self, town_cell, code_cell, village_cell) -> tuple[str | None, tuple | None]:
        """(village code, None) or (None, (column, problem code, detail, value))."""
        town_code = None
        if town_cell is not None:
            town_code = self.places.town(town_cell)
            if town_code is None:
                return None, ("town", "place.unknown_town", "", town_cell)
        if code_cell is not None:
            found, code = self.places.village(town_code, code_cell)
            column, raw = "village_code", code_cell
        elif village_cell is not None:
            found, code = self.places.village(town_code, village_cell)
            column, raw = "village", village_cell
        else:
            return None, ("village", "row.missing_value", self.header("village"), None)
        if found is None:
            return None, (column, code, "", raw)
        if self.allowed_town is not None and self.places.village_town[found] != self.allowed_town:
            return None, (column, "place.out_of_scope", "", raw)
        return found, None


@dataclass(frozen=True)
class RegisterRow:
    line: int
    id_number: str
    name: str
    gender: str
    student_number: str | None
    school_code: str | None
    school_name: str | None
    grade: int
    class_name: str | None
    status: str


class RegisterParser(_RowChecker):
    required = ("name",)

    def __init__(self, columns: ColumnMap):
        super().__init__(columns)
        self.seen: dict[tuple[str, str], int] = {}

    def parse(self, line: int, cells: list) -> tuple[RegisterRow | None, list[Problem]]:
        problems: list[Problem] = []
        t = self.texts(cells, line, problems, ("name", "student_number", "school_code", "school_name",
                                                "class_name"))
        if t["school_code"] is None and t["school_name"] is None:
            self.problem(problems, line, "school_name", "row.missing_value",
                         self.header("school_name") + " / " + self.header("school_code"))
        checked, _birth_date, gender = self.person_facts(cells, line, problems, gender_required=False,
                                                         with_birth_date=False)
        grade = status = None
        raw_grade = self.cell(cells, "grade")
        if values.text(raw_grade) is None:
            self.problem(problems, line, "grade", "row.missing_value", self.header("grade"))
        else:
            try:
                grade = values.grade(raw_grade)
            except ValueError:
                self.problem(problems, line, "grade", "register.grade_invalid", "", raw_grade)
        raw_status = self.cell(cells, "status")
        if values.text(raw_status) is None:
            self.problem(problems, line, "status", "row.missing_value", self.header("status"))
        else:
            try:
                status = values.register_status(raw_status)
            except ValueError:
                self.problem(problems, line, "status", "register.status_unknown",
                             "可用 在读、休学、转出、毕业、辍学、死亡", raw_status)
        if checked is not None:
            # One student may be 转出 at one school and 在读 at another in the same export;
            # twice at the same school is a duplicate.
            key = (checked.value, t["school_code"] or t["school_name"] or "")
            first = self.seen.get(key)
            if first is not None:
                self.problem(problems, line, "id_number", "id_number.duplicate_in_file",
                             f"与第 {first} 行相同（同一学校）", checked.value)
                checked = None
            elif not has_errors(problems):
                self.seen[key] = line
        if problems:
            # A register row has no village: its name is how the bureau finds it.
            name = _clip(self.cell(cells, "name"), MAX_LENGTHS["name"])
            problems = [replace(p, name=name) for p in problems]
        if checked is None or has_errors(problems):
            return None, problems
        return RegisterRow(line, checked.value, t["name"], gender, t["student_number"],
                           t["school_code"], t["school_name"], grade, t["class_name"], status), problems
