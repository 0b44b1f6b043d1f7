"""Issue 8: every endpoint × every actor × an object in scope and one out of scope.

The table is tests/authz/matrix.py; this file checks that it covers the app's URL map exactly,
then makes each request of it and checks the answer: the expected status; a refusal in the
stable error shape and nothing else; no string of town B in anything an actor scoped to town A
receives, nor anything of town A beyond the actor's line (world.hidden); and town B's objects
unchanged by any write of theirs.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from server.errors import CODES
from tests.authz.matrix import ACTORS, MATRIX, V
from tests.authz.reading import readable

NOT_CHECKED_METHODS = {"HEAD", "OPTIONS"}  # answered by Werkzeug/Flask from the GET and the rule


def test_every_endpoint_of_the_app_is_in_the_matrix(app):
    routes = {(method, rule.rule) for rule in app.url_map.iter_rules() for method in rule.methods - NOT_CHECKED_METHODS}
    declared = Counter(entry.key for entry in MATRIX)
    missing = sorted(routes - set(declared))
    gone = sorted(set(declared) - routes)
    twice = sorted(key for key, n in declared.items() if n > 1)
    assert not missing and not gone and not twice, (
        "\nendpoints missing from tests/authz/matrix.py:\n  " + "\n  ".join(f"{m} {r}" for m, r in missing)
        + "\nmatrix entries the app no longer has:\n  " + "\n  ".join(f"{m} {r}" for m, r in gone)
        + "\nmatrix entries declared twice:\n  " + "\n  ".join(f"{m} {r}" for m, r in twice))


def test_every_entry_probes_in_and_out_of_scope_or_says_why_not():
    for entry in MATRIX:
        names = {probe.name.split("_")[0] for probe in entry.probes}
        assert names <= {"in", "out", "list", "global"}, entry.key
        if "in" in names:
            assert "out" in names, f"{entry.key}: an in-scope probe without its out-of-scope twin"


CHECKS = [(entry, actor, probe) for entry in MATRIX for actor in ACTORS for probe in entry.probes]


def _request(client, world, entry, actor, probe):
    """The answer, and what the request itself told the server (an id it sent may come back)."""
    kwargs = {"headers": world.headers(actor)}
    sent = probe.url(world, actor)
    if probe.json is not None:
        kwargs["json"] = probe.json(world, actor)
        sent += json.dumps(kwargs["json"], ensure_ascii=False)
    if probe.files is not None:
        kwargs["data"] = probe.files(world, actor)
        kwargs["content_type"] = "multipart/form-data"
    if probe.raw is not None:
        kwargs["data"] = probe.raw(world, actor)
        kwargs["content_type"] = "image/jpeg"
    return client.open(probe.url(world, actor), method=entry.method, **kwargs), sent


_REFUSAL_CODES = {401: ("auth.missing_token", "auth.invalid_token"), 403: ("auth.forbidden",),
                  404: ("request.not_found",)}


@pytest.mark.parametrize(("entry", "actor", "probe"), CHECKS,
                         ids=[f"{e.method} {e.rule} | {a} | {p.name}" for e, a, p in CHECKS])
def test_matrix(entry, actor, probe, world, client, session, vault):
    before = entry.b_state(session, world) if entry.b_state is not None and actor != "city" else None
    response, sent = _request(client, world, entry, actor, probe)
    body = response.get_data()
    want = entry.expected(actor, probe)
    where = f"{entry.method} {probe.url(world, actor)} as {actor}"
    assert response.status_code == want, f"{where}: {response.status_code}, expected {want}: {body[:600]!r}"

    if want >= 400 and entry.rule.startswith(f"{V}/openrosa/"):
        # OpenRosa clients read an OpenRosaResponse (Collect shows its message), code in brackets.
        assert response.content_type.startswith("text/xml") and b"<OpenRosaResponse" in body, f"{where}: {body!r}"
    elif want >= 400:
        error = response.get_json(silent=True)
        assert isinstance(error, dict) and {"code", "message"} <= set(error) <= {"code", "message", "errors"}, (
            f"{where}: a refusal is the error shape only: {body[:600]!r}")
        assert CODES.get(error["code"], (None,))[0] == want, f"{where}: {error['code']} is not a {want} code"
        if want in _REFUSAL_CODES:
            assert error["code"] in _REFUSAL_CODES[want] and error.get("errors", []) == [], f"{where}: {error}"

    text = readable(body)
    if entry.after is not None and want < 400:
        text += "\n" + (entry.after(session, vault, world, actor, probe, response) or "")
    if actor != "city":
        # An id the request carried may come back (a receipt names the record it refused).
        leaked = [s for s in world.forbidden if s in text and s not in sent]
        assert not leaked, f"{where}: town B's {leaked} in the answer: {text[:1500]}"
        # Within town A: what is not this actor's line (another school's children, another team).
        # An OpenRosa URL answers as its tablet whoever holds it: the tablet's line is the line.
        hidden = () if entry.rule.startswith(f"{V}/openrosa/") else world.hidden.get(actor, ())
        beyond = [s for s in hidden if s in text and s not in sent]
        assert not beyond, f"{where}: {beyond} of town A beyond this actor's line in the answer: {text[:1500]}"
    if probe.shows is not None and want < 300 and not probe.out_of_scope and actor not in entry.nothing_for:
        assert probe.shows(world) in text, f"{where}: town A's data is missing from the answer: {text[:1000]}"
    if before is not None:
        session.expire_all()
        assert entry.b_state(session, world) == before, f"{where}: changed town B's objects"
