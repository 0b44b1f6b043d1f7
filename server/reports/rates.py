"""The three rates of campaign.md, as formulas over counts. Pure: no database, no Flask.

- 入学率 = enrolled / (school-age − legitimately not enrolled)
- 巩固率 (in-year form) = 1 − dropped out during the year / enrolled at its start
- 残疾儿童少年入学率 = 入学率 over the children flagged disabled

What the data gives for 巩固率: the registers are snapshots, not the roll on 1 September, so the
start-of-year roll is rebuilt from today's: the children who dropped out (a child whose status
is dropped_out, or whose case was opened from dropped_out, even if since returned) were enrolled
at the start; the children a case brought back were not counted at the start unless they had
dropped out (never-enrolled children who were brought in were not on the roll). Hence
    enrolled_at_start = enrolled now − returned through a case + dropped out.
"""

from __future__ import annotations

from dataclasses import dataclass

TARGETS = {"enrollment_rate": 1.00, "retention_rate": 0.99, "disabled_enrollment_rate": 0.90}


@dataclass(frozen=True)
class Counts:
    school_age: int = 0
    enrolled: int = 0
    legitimately_absent: int = 0
    out_of_school: int = 0
    returned: int = 0  # cases closed as returned
    dropped_out: int = 0  # dropped out during the year (see the module's note)
    disabled_school_age: int = 0
    disabled_enrolled: int = 0
    disabled_legitimately_absent: int = 0


def enrollment_rate(enrolled: int, school_age: int, legitimately_absent: int) -> float | None:
    """入学率; None when nobody is expected in school (an empty village)."""
    expected = school_age - legitimately_absent
    return None if expected <= 0 else enrolled / expected


def enrolled_at_start(c: Counts) -> int:
    return c.enrolled - c.returned + c.dropped_out


def retention_rate(dropped_out: int, at_start: int) -> float | None:
    """巩固率, in-year form."""
    return None if at_start <= 0 else 1 - dropped_out / at_start


def rates(c: Counts) -> dict[str, float | None]:
    return {
        "enrollment_rate": enrollment_rate(c.enrolled, c.school_age, c.legitimately_absent),
        "retention_rate": retention_rate(c.dropped_out, enrolled_at_start(c)),
        "disabled_enrollment_rate": enrollment_rate(c.disabled_enrolled, c.disabled_school_age,
                                                    c.disabled_legitimately_absent),
    }


def meets_targets(values: dict[str, float | None]) -> dict[str, bool | None]:
    # A small tolerance: 100% computed as 0.9999999 by floating point still meets 100%.
    return {k: None if v is None else v + 1e-9 >= TARGETS[k] for k, v in values.items()}
