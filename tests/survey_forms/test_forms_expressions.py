"""The server reads the simple shapes of constraints and relevance, and leaves the rest alone."""

import pytest

from survey_forms.expressions import parse_constraint, parse_relevance
from survey_forms.model import AllOf, AnyOf, Comparison, Length, Pattern, Range


@pytest.mark.parametrize(
    ("expression", "field_type", "checks"),
    [
        (". >= 0 and . <= 120", "integer", (Range(0, 120),)),
        (".>=0 and .<=120", "integer", (Range(0, 120),)),
        ("(. >= 0) and (. <= 120)", "integer", (Range(0, 120),)),
        ("0 <= . and 120 >= .", "integer", (Range(0, 120),)),
        (". > 0 and . < 3.5", "decimal", (Range(0, 3.5, False, False),)),
        (". >= -10.5", "decimal", (Range(-10.5, None),)),
        (". = 4", "integer", (Range(4, 4),)),
        # several bounds on one side: the tightest wins
        (". >= 1 and . > 1 and . <= 9 and . < 12", "integer", (Range(1, 9, False, True),)),
        ("string-length(.) <= 50", "text", (Length(None, 50),)),
        ("string-length(.) < 50", "text", (Length(None, 49),)),
        ("string-length(.) = 18", "text", (Length(18, 18),)),
        ("string-length(.) > 1 and string-length(.) <= 4", "text", (Length(2, 4),)),
        ("regex(., '^1[3-9][0-9]{9}$')", "text", (Pattern("^1[3-9][0-9]{9}$"),)),
        (
            "string-length(.) <= 20 and regex(., '^[a-z ]+$')",
            "text",
            (Length(None, 20), Pattern("^[a-z ]+$")),
        ),
        # a pattern containing the word "and" stays one pattern
        ("regex(., '^(a and b)$')", "text", (Pattern("^(a and b)$"),)),
        # the understood conjuncts are still checked when another one is not
        (". >= 0 and . <= ${max_age}", "integer", (Range(0, None),)),
        (". >= 0 and (. < 5 or . > 10)", "integer", (Range(0, None),)),
        # nothing the server can check soundly
        (". < 5 or . > 10", "integer", ()),
        (". <= today()", "date", ()),
        (". != 3", "integer", ()),
        ("regex(., '[')", "text", ()),  # Python cannot compile it; the tablet still checks
        ("count-selected(.) <= 2", "select_multiple", ()),
        ("", "integer", ()),
        (None, "integer", ()),
        ("## not xpath", "integer", ()),
        # a check only applies to the types it makes sense for
        (". >= 0", "text", ()),
        ("string-length(.) <= 5", "integer", ()),
    ],
)
def test_constraints(expression, field_type, checks):
    assert parse_constraint(expression, field_type) == checks


NAMES = {"status": "status", "kinds": "kinds", "age": "age_years", "intro": None}


@pytest.mark.parametrize(
    ("expression", "condition"),
    [
        ("${status} = 'enrolled'", Comparison("status", "=", "enrolled")),
        ('${status}="enrolled"', Comparison("status", "=", "enrolled")),
        ("'enrolled' = ${status}", Comparison("status", "=", "enrolled")),
        ("${status} != ''", Comparison("status", "!=", "")),
        ("selected(${kinds}, 'poor')", Comparison("kinds", "selected", "poor")),
        ("selected( ${kinds} , \"poor\" )", Comparison("kinds", "selected", "poor")),
        # record fields, not question names, are what a submission carries
        ("${age} = 7", Comparison("age_years", "=", 7)),
        (
            "${status} = 'a' or ${status} = 'b'",
            AnyOf((Comparison("status", "=", "a"), Comparison("status", "=", "b"))),
        ),
        (
            "selected(${kinds}, 'poor') and (${status} = 'a' or ${status} = 'b')",
            AllOf(
                (
                    Comparison("kinds", "selected", "poor"),
                    AnyOf((Comparison("status", "=", "a"), Comparison("status", "=", "b"))),
                )
            ),
        ),
        ("${age} > 10", None),
        ("not(selected(${kinds}, 'poor'))", None),
        ("${intro} = 'x'", None),  # a note holds no value
        ("${status} = ${kinds}", None),
        ("${status} = 'a' and", None),
        ("(${status} = 'a'", None),
        ("", None),
    ],
)
def test_relevance(expression, condition):
    assert parse_relevance(expression, NAMES.get) == condition
