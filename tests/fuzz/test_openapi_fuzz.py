"""Issue 8, item 4: the API against its own OpenAPI document (schemathesis).

Every operation of the document the app serves (the one committed in mobile_contract/, as
tests/test_openapi_committed.py checks) runs with generated inputs against a small seeded county
(tests/fuzz/conftest.py): as the bureau (a city account, which may call every person endpoint)
and, for the calls a tablet makes, as an enrolled tablet. No answer may be a 500, and each
answer must be one the document declares, in the declared content type, with a body that
matches its schema. Path parameters are sometimes swapped for ids that exist in the county,
so that the handlers behind a 404 run too.

Each example runs in a savepoint rolled back after it (tests/fuzz/conftest.py), so every one
sees the same county. Sized for CI: 25 examples per operation and generation mode, plus
schemathesis's explicit examples and coverage cases, about a minute in all (FUZZ_EXAMPLES=300
runs a deeper search, about five minutes; FUZZ_SEED replays a run).
"""

from __future__ import annotations

import os

import hypothesis.strategies as st
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server import create_app
from tests.conftest import TEST_CONFIG, TEST_DB, database_url
from tests.fuzz.conftest import KNOWN, KNOWN_PATHS

pytestmark = pytest.mark.slow

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Schemathesis asks for gzip as requests does, but its WSGI transport does not inflate the
# answer; the compressed path has tests of its own (tests/sync_api, tests/contract).
PLAIN = {"Accept-Encoding": "identity"}

# The calls a tablet makes (sync-contract.md, mobile_contract/); the others are for people and
# answer a tablet's token with 401, which the authorization tests cover.
TABLET_OPERATIONS = {
    "POST /api/v1/devices/enroll", "GET /api/v1/sync/manifest", "GET /api/v1/sync/changes",
    "POST /api/v1/sync/push", "POST /api/v1/sync/repair", "GET /api/v1/forms",
    "GET /api/v1/forms/{form_id}/versions/{version}", "GET /api/v1/forms/{form_id}/versions/{version}/xform",
    "PUT /api/v1/attachments/{sha256}", "HEAD /api/v1/attachments/{sha256}", "POST /api/v1/devices/token",
}


# The document the app serves (tests/test_openapi_committed.py holds the committed copy equal to
# it), read at collection so that every operation is a test of its own: from an app of the test
# configuration that is only asked for its document; the calls go to the `app` fixture.
schema = schemathesis.openapi.from_wsgi(
    "/api/openapi.json", create_app({**TEST_CONFIG, "DATABASE_URL": database_url(TEST_DB)}))
schema.config.generation.update(max_examples=MAX_EXAMPLES)
if os.environ.get("FUZZ_SEED"):  # to replay a run; by default each run draws new inputs
    schema.config.seed = int(os.environ["FUZZ_SEED"])


@schema.hook
def flatmap_case(context, case):
    """In positive cases, sometimes use path parameters that exist (an id, a form version, a tile
    over the county), so that the handlers get past their 404."""
    params = case.path_parameters or {}
    if not params or case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return st.just(case)
    original = dict(params)
    choices = st.none()
    if combos := [c for c in KNOWN_PATHS if set(c) == set(params)]:
        choices |= st.sampled_from(combos)
    elif all(KNOWN.get(n) for n in params):
        choices |= st.fixed_dictionaries({n: st.sampled_from(KNOWN[n]) for n in params})
    elif singles := {n: st.sampled_from(KNOWN[n]) for n in params if KNOWN.get(n)}:
        choices |= st.fixed_dictionaries({}, optional=singles)

    def apply(chosen):
        case.path_parameters = {**original, **(chosen or {})}
        return case

    return choices.map(apply)


@schema.parametrize()
def test_as_bureau(case, app, world):
    with world.isolated():
        case.call_and_validate(app=app, headers={**world.city_headers, **PLAIN}, checks=CHECKS)


@schema.include(lambda ctx: ctx.operation.label in TABLET_OPERATIONS).parametrize()
def test_as_tablet(case, app, world):
    with world.isolated():
        case.call_and_validate(app=app, headers={**world.tablet_headers, **PLAIN}, checks=CHECKS)


def test_the_tablet_operations_are_in_the_document():
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert TABLET_OPERATIONS <= labels, TABLET_OPERATIONS - labels
