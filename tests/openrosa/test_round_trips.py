"""What one OpenRosa submission asks of the database (bench/openrosa_bench.py measures what it
costs): a fixed number of statements, counted, not timed."""

from __future__ import annotations

from tests.openrosa.instances import instance
from tests.openrosa.test_openrosa import HOUSEHOLD, _household_answers, _update
from tests.sync_api.test_push_round_trips import _statements

# The token; the instance's advisory lock with its form version's key; the instance; the push
# (the stored submissions, the records locked, their context, a savepoint, the record when the
# edit changed it, its field states with the stored submission, release); the instance stored,
# once (10 here; it was 14: the whole form version read, the instance inserted then updated,
# the field states and the stored submission apart, the tablet seen on every push).
OPENROSA_STATEMENTS = 11


def test_one_submission_is_a_fixed_number_of_statements(app, collect, area):
    device = collect([area["a"]])
    household = area["households"][area["a"].code][0]
    xform = device.xform(HOUSEHOLD)

    def edit(phone):
        row = device.entity("households", household.id)
        return instance(xform, _household_answers(row, **{"household/phone": phone}), entity=_update(row))

    def submit(xml):
        response = device.submit(xml)
        assert response.status_code == 201, response.data

    submit(edit("13912345678"))  # the form's binding and the catalogue are known to the process now
    xml = edit("13912345679")
    statements = _statements(app, lambda: submit(xml))
    assert len(statements) <= OPENROSA_STATEMENTS, "\n".join(s.split("\n")[0][:120] for s in statements)
    assert not any(s.startswith("SELECT form_versions.") for s in statements)  # not the whole row again
