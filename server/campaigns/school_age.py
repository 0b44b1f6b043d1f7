"""School age (适龄) and expected grade, as campaign.md defines them.

For school year Y (starting 1 September Y) the school-age children were born between the day
after the cut-off in year Y-15 and the cut-off day in year Y-6, inclusive: nine yearly cohorts,
grades 1 to 9. The cut-off is 31 August by default and configurable per campaign (some
provinces use other dates). Pure: no database, no Flask.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

GRADES = range(1, 10)


@dataclass(frozen=True)
class Cutoff:
    """The last birthday (month, day) of a cohort; the next cohort starts the day after."""

    month: int = 8
    day: int = 31

    def in_year(self, year: int) -> dt.date:
        # A 29 February cut-off falls back to 28 February in common years.
        try:
            return dt.date(year, self.month, self.day)
        except ValueError:
            return dt.date(year, self.month, self.day - 1)

    @classmethod
    def parse(cls, text: str) -> Cutoff:
        """Read "MM-DD"."""
        month, day = (int(part) for part in text.split("-"))
        dt.date(2000, month, day)  # raises ValueError on an impossible date (2000 is leap)
        return cls(month, day)

    def __str__(self) -> str:
        return f"{self.month:02d}-{self.day:02d}"


@dataclass(frozen=True)
class Cohort:
    grade: int
    born_from: dt.date
    born_to: dt.date


def cohort(school_year: int, grade: int, cutoff: Cutoff = Cutoff()) -> Cohort:
    """The birth-date range of the children expected in `grade` in `school_year`."""
    if grade not in GRADES:
        raise ValueError(f"grade must be 1..9, not {grade}")
    last_year = school_year - 5 - grade  # grade 1 of year Y: born by the cut-off of Y-6
    born_to = cutoff.in_year(last_year)
    born_from = cutoff.in_year(last_year - 1) + dt.timedelta(days=1)
    return Cohort(grade, born_from, born_to)


def cohorts(school_year: int, cutoff: Cutoff = Cutoff()) -> list[Cohort]:
    """All nine cohorts of a school year, grade 1 first."""
    return [cohort(school_year, g, cutoff) for g in GRADES]


def school_age_range(school_year: int, cutoff: Cutoff = Cutoff()) -> tuple[dt.date, dt.date]:
    """The first and last birth dates of school-age children, inclusive."""
    return cohort(school_year, 9, cutoff).born_from, cohort(school_year, 1, cutoff).born_to


def expected_grade(birth_date: dt.date, school_year: int, cutoff: Cutoff = Cutoff()) -> int | None:
    """The grade a child of this birth date should be in, or None when not school-age."""
    born_to_g1 = cutoff.in_year(school_year - 6)
    # Count how many cut-offs lie between the birth date and grade 1's: each is one grade up.
    years_older = born_to_g1.year - birth_date.year
    if birth_date > cutoff.in_year(birth_date.year):
        years_older -= 1
    grade = 1 + years_older
    return grade if grade in GRADES else None


def is_school_age(birth_date: dt.date, school_year: int, cutoff: Cutoff = Cutoff()) -> bool:
    return expected_grade(birth_date, school_year, cutoff) is not None
