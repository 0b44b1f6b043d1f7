"""What the API fuzz test (test_openapi_fuzz.py) found, pinned down one example each."""

from __future__ import annotations

import pytest

from server.db import INT4_MAX


@pytest.fixture
def city(make_person, login):
    return login(make_person("city"))


@pytest.mark.parametrize("path", ["/cases/{n}", "/imports/{n}", "/notices/{n}/pdf", "/reports/exports/{n}/xlsx",
                                  "/teams/{n}/tasks"])
def test_an_id_past_the_database_integer_is_no_such_resource(client, city, path):
    for n in (INT4_MAX, INT4_MAX + 1, 10**30):
        response = client.get("/api/v1" + path.format(n=n), headers=city)
        assert response.status_code == 404, (n, response.json)
        assert response.json["code"] == "request.not_found"
