"""What one push of one submission asks of the database (bench/sync_bench.py push-one measures
what it costs): a fixed number of statements, whatever the county's size. One more is a
round trip on every submission ODK Collect sends; this says so before the bench does."""

from sqlalchemy import event

from tests.sync_api.conftest import (  # noqa: F401 - fixtures
    Tablet,
    area,
    enroll,
    forms,
)

# The token (device, surveyor, time and scope in one), the stored submissions with the form
# catalogue's digest, the records locked, their field states, conflicts and base version; a
# savepoint, the record, its field states, the stored submission, release; the tablet seen.
PUSH_STATEMENTS = 11


def _statements(app, do) -> list[str]:
    seen = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    engine = app.extensions["notoneless.db"].engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        do()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # The test's connection joins each request's session through a savepoint of its own.
    if seen and seen[0].startswith("SAVEPOINT "):
        joined = seen[0].split()[1]
        seen = [s for s in seen if s not in (f"SAVEPOINT {joined}", f"RELEASE SAVEPOINT {joined}")]
    return seen


def test_one_submission_is_a_fixed_number_of_statements(app, forms, area, enroll):  # noqa: F811
    tablet = enroll([area["a"]])
    child = area["children"][area["a"].code][0]

    def edit(status):
        return tablet.submission("child", child.id, {"enrollment_status": status}, household_id=child.household_id)

    first = edit("dropped_out")
    assert tablet.push(first)[0]["status"] == "applied"  # and the form catalogue is loaded
    receipts = []
    statements = _statements(app, lambda: receipts.extend(tablet.push(edit("enrolled"))))
    assert receipts[0]["status"] == "applied" and receipts[0]["record"]["id"] == str(child.id), receipts
    assert len(statements) <= PUSH_STATEMENTS, "\n".join(s.split("\n")[0][:120] for s in statements)
    # A re-sent submission writes nothing: no prefetch, no savepoint, no merge.
    statements = _statements(app, lambda: receipts.extend(tablet.push(first)))
    assert receipts[-1]["status"] == "applied"
    assert len(statements) <= 3, "\n".join(s.split("\n")[0][:120] for s in statements)
