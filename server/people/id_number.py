"""Citizen ID numbers (公民身份号码, GB 11643-1999): format, check digit, embedded facts.

Pure: no database, no Flask. Used by imports, the demo generator and the API.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

# MOD 11-2 weights of the first 17 digits, and the check character for each remainder.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_FORMAT = re.compile(r"^\d{17}[\dX]$")


def check_digit(first17: str) -> str:
    """Return the MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalize(raw: str) -> str:
    """Strip blanks and full-width forms, upper-case a trailing x."""
    text = raw.strip().replace(" ", "").replace("\u3000", "")
    # Spreadsheets exported on Chinese Windows often carry full-width digits and Ｘ.
    text = text.translate(str.maketrans("０１２３４５６７８９ＸｘX", "0123456789XXX"))
    return text.upper()


@dataclass(frozen=True)
class IdNumberCheck:
    """The outcome of checking one ID number: errors refuse it, warnings do not."""

    value: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    birth_date: dt.date | None = None
    gender: str | None = None  # "M" or "F", from the 17th digit

    @property
    def ok(self) -> bool:
        return not self.errors


def check(raw: str, *, birth_date: dt.date | None = None, gender: str | None = None) -> IdNumberCheck:
    """Check an ID number; compare its embedded birth date and gender with the record's."""
    value = normalize(raw or "")
    errors: list[str] = []
    warnings: list[str] = []
    if not _FORMAT.match(value):
        errors.append("id_number.format")
        return IdNumberCheck(value, errors, warnings)
    if check_digit(value[:17]) != value[17]:
        errors.append("id_number.check_digit")
    try:
        embedded = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        errors.append("id_number.birth_date")
        embedded = None
    embedded_gender = "M" if int(value[16]) % 2 == 1 else "F"
    if embedded is not None and birth_date is not None and embedded != birth_date:
        warnings.append("id_number.birth_date_mismatch")
    if gender is not None and gender != embedded_gender:
        warnings.append("id_number.gender_mismatch")
    return IdNumberCheck(value, errors, warnings, embedded, embedded_gender)


def make(region: str, birth_date: dt.date, sequence: int) -> str:
    """Compose a valid ID number (region code, birth date, 3-digit sequence, check digit).

    The sequence's parity carries the gender: odd for male, even for female.
    """
    first17 = f"{region:0>6}{birth_date:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_digit(first17)


def mask(value: str) -> str:
    """Show the region (the first 6 characters) only.

    The rest is the birth date, the sequence and the check digit; whoever sees a masked number
    also sees the birth date and gender, so showing the last four as well (the usual mask)
    would leave exactly one possible number (server/disclosure.py)."""
    if len(value) <= 6:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 6)
