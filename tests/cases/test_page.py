"""The old cases and supervisor pages' addresses lead to the workbench (bookmarks keep working)."""

import pytest


@pytest.mark.parametrize(("old", "new"), [("/cases/", "/workbench/cases"), ("/cases", "/workbench/cases"),
                                          ("/cases/cases.js", "/workbench/cases"),
                                          ("/supervisor/", "/workbench/map"), ("/supervisor/app.js", "/workbench/map")])
def test_the_old_pages_lead_to_the_workbench(client, old, new):
    response = client.get(old)
    assert response.status_code == 301 and response.headers["Location"] == new
