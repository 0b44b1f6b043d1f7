"""Who is school-age, and in which grade, at the boundary dates campaign.md defines."""

import datetime as dt

import pytest

from server.campaigns.school_age import Cutoff, cohort, expected_grade, school_age_range

D = dt.date


@pytest.mark.parametrize(
    ("birth", "school_year", "cutoff", "grade"),
    [
        # school year 2026: grade 1 born 2019-09-01 .. 2020-08-31; grade 9 born 2011-09-01 .. 2012-08-31
        (D(2020, 8, 31), 2026, Cutoff(), 1),
        (D(2020, 9, 1), 2026, Cutoff(), None),  # too young by one day
        (D(2019, 9, 1), 2026, Cutoff(), 1),
        (D(2019, 8, 31), 2026, Cutoff(), 2),
        (D(2012, 8, 31), 2026, Cutoff(), 9),
        (D(2011, 9, 1), 2026, Cutoff(), 9),
        (D(2011, 8, 31), 2026, Cutoff(), None),  # too old by one day
        (D(2016, 1, 15), 2026, Cutoff(), 5),
        # a province that cuts off at 31 December
        (D(2020, 12, 31), 2026, Cutoff(12, 31), 1),
        (D(2021, 1, 1), 2026, Cutoff(12, 31), None),
        (D(2020, 1, 1), 2026, Cutoff(12, 31), 1),
        (D(2019, 12, 31), 2026, Cutoff(12, 31), 2),
        # a 29 February birthday and a 29 February cut-off
        (D(2020, 2, 29), 2026, Cutoff(), 1),
        (D(2020, 2, 29), 2026, Cutoff(2, 29), 1),
        (D(2020, 3, 1), 2026, Cutoff(2, 29), None),
        (D(2019, 2, 28), 2026, Cutoff(2, 29), 2),  # 2019 has no 29 Feb: the cut-off is the 28th
        (D(2019, 3, 1), 2026, Cutoff(2, 29), 1),
    ],
)
def test_expected_grade_at_the_boundaries(birth, school_year, cutoff, grade):
    assert expected_grade(birth, school_year, cutoff) == grade


def test_nine_cohorts_tile_the_school_age_range_without_gaps():
    cohorts = [cohort(2026, g) for g in range(1, 10)]
    for younger, older in zip(cohorts, cohorts[1:], strict=False):
        assert older.born_to + dt.timedelta(days=1) == younger.born_from
    assert school_age_range(2026) == (D(2011, 9, 1), D(2020, 8, 31))


def test_every_day_of_a_cohort_maps_to_its_grade():
    for g in range(1, 10):
        c = cohort(2025, g, Cutoff(8, 31))
        day = c.born_from
        while day <= c.born_to:
            assert expected_grade(day, 2025) == g
            day += dt.timedelta(days=1)


@pytest.mark.parametrize("text", ["02-30", "13-01", "00-10", "8/31"])
def test_an_impossible_cutoff_is_refused(text):
    with pytest.raises(ValueError):
        Cutoff.parse(text)
