"""Reading one cell: text, dates in the formats bureaus use, gender, grade, register status.

Pure: no Flask, no SQLAlchemy. Each parser returns the value or raises ValueError; the row
parser turns that into a problem with a stable code.
"""

from __future__ import annotations

import datetime as dt
import re

# Excel's day zero for the 1900 date system (with its fictitious 29 Feb 1900 accounted for).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def text(value: object) -> str | None:
    """A cell as trimmed text, None when blank; integral numbers lose their ".0"."""
    if type(value) is str:  # the common case, first: this runs for every cell of every row
        return value.strip() or None  # str.strip() also strips the ideographic space U+3000
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    out = str(value).strip().replace("\u3000", " ").strip()
    return out or None


class ImpossibleDate(ValueError):
    """A date written in a spelling we read, naming a day no calendar has (2015-02-30, month 13).

    Told apart from an unreadable cell: the bureau fixes a typo in the day differently from a
    column that holds something else entirely."""


def date(value: object) -> dt.date:
    """2013-04-02, 2013/4/2, 2013.4.2, 20130402, 2013年4月2日, or an Excel date cell.

    Raises ImpossibleDate for a readable spelling of a day that does not exist, ValueError for
    anything else it cannot read."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 100000:  # an Excel serial day number that lost its date format
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        value = str(int(value))
    raw = text(value)
    if raw is None:
        raise ValueError("blank")
    if len(raw) == 10 and raw[4] == "-" and raw[7] == "-":  # ISO, the common case: parsed in C
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            pass  # "2013-02-30" fails below too, with the patterns' message
    raw = raw.translate(_FULL_WIDTH_DIGITS)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(raw)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return dt.date(year, month, day)
            except ValueError as exc:  # 2013-02-30, 2013-13-01, 0000-01-01
                raise ImpossibleDate(raw) from exc
    raise ValueError(raw)


_GENDERS = {"男": "M", "男性": "M", "m": "M", "male": "M", "1": "M",
            "女": "F", "女性": "F", "f": "F", "female": "F", "2": "F"}


def gender(value: object) -> str:
    """男/女, M/F, 1/2 (GB/T 2261.1) -> "M" or "F"."""
    raw = text(value)
    if raw is None:
        raise ValueError("blank")
    found = _GENDERS.get(raw.lower())
    if found is None:
        raise ValueError(raw)
    return found


_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_GRADE_WORDS = {"初一": 7, "初二": 8, "初三": 9, "预初": 6, "高一": 10, "高二": 11, "高三": 12}


def grade(value: object) -> int:
    """一年级 .. 九年级, 初一 .. 初三, 1 .. 12, "小学三年级", "7年级" -> 1 .. 12."""
    raw = text(value)
    if raw is None:
        raise ValueError("blank")
    raw = raw.removeprefix("小学").removeprefix("初中").removeprefix("高中")
    if raw in _GRADE_WORDS:
        return _GRADE_WORDS[raw]
    number = raw.removesuffix("年级")
    if number.isdigit():
        found = int(number)
    elif number in _CN_DIGITS:
        found = _CN_DIGITS[number]
    else:
        raise ValueError(raw)
    if not 1 <= found <= 12:
        raise ValueError(raw)
    return found


# The register's 在校状态 -> our code. Attending covers the states of a student who is there.
REGISTER_STATUSES = {
    "在读": "attending", "在校": "attending", "在籍在读": "attending", "正常": "attending",
    "转入": "attending", "复学": "attending", "随班就读": "attending", "送教上门": "attending",
    "休学": "suspended",
    "转出": "transferred_out",
    "毕业": "graduated", "结业": "graduated",
    "辍学": "dropped_out", "退学": "dropped_out",
    "死亡": "deceased",
}
REGISTER_STATUS_LABELS = {
    "attending": "在读", "suspended": "休学", "transferred_out": "转出", "graduated": "毕业",
    "dropped_out": "辍学", "deceased": "死亡",
}


def register_status(value: object) -> str:
    raw = text(value)
    if raw is None:
        raise ValueError("blank")
    found = REGISTER_STATUSES.get(raw.replace(" ", ""))
    if found is None:
        raise ValueError(raw)
    return found
