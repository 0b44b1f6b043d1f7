"""The OpenAPI document committed in mobile_contract/ is the one the app generates: a tablet
team codes against the file, so a change of the API shows in review as a change of it."""

import json
import os

from tests.conftest import ROOT


def test_committed_openapi_equals_the_generated_one(client):
    generated = client.get("/api/openapi.json").json
    with open(os.path.join(ROOT, "mobile_contract", "openapi.json"), encoding="utf-8") as f:
        committed = json.load(f)
    assert committed == generated, (
        "mobile_contract/openapi.json is stale: run `notoneless openapi --write mobile_contract/openapi.json`")


def test_every_contract_endpoint_is_in_the_document():
    with open(os.path.join(ROOT, "mobile_contract", "openapi.json"), encoding="utf-8") as f:
        paths = json.load(f)["paths"]
    for path, method in [("/api/v1/devices/enroll", "post"), ("/api/v1/sync/manifest", "get"),
                         ("/api/v1/forms/{form_id}/versions/{version}", "get"), ("/api/v1/sync/changes", "get"),
                         ("/api/v1/sync/push", "post"), ("/api/v1/attachments/{sha256}", "put"),
                         ("/api/v1/attachments/{sha256}", "head"), ("/api/v1/sync/repair", "post"),
                         ("/api/v1/conflicts", "get"), ("/api/v1/conflicts/{conflict_id}/resolve", "post")]:
        assert method in paths.get(path, {}), (path, method)
