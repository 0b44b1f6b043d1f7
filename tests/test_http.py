"""The API's shape: OpenAPI and docs served, errors always in the stable shape, never a 500."""


def test_openapi_lists_the_endpoints(client):
    spec = client.get("/api/openapi.json").json
    paths = set(spec["paths"])
    assert {"/api/v1/health", "/api/v1/auth/login", "/api/v1/towns", "/api/v1/villages",
            "/api/v1/children", "/api/v1/children/{child_id}", "/api/v1/campaigns/current"} <= paths
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["paths"]["/api/v1/towns"]["get"]["security"] == [{"bearerAuth": []}]


def test_interactive_docs_are_served_without_a_cdn(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert b"/api/docs/assets/swagger-ui-bundle.js" in page.data
    asset = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000


def test_unknown_path_and_wrong_method(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.json["code"] == "request.not_found"
    response = client.delete("/api/v1/towns")
    assert response.status_code == 405 and response.json["code"] == "request.method_not_allowed"


def test_malformed_json_is_a_clear_refusal(client):
    response = client.post("/api/v1/auth/login", data="{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert response.json["code"] in ("request.malformed", "request.invalid")


def test_field_errors_name_the_field(client):
    response = client.post("/api/v1/auth/login", json={"username": ""})
    assert response.status_code == 422
    fields = {e["field"] for e in response.json["errors"]}
    assert fields == {"username", "password"}


def test_campaign_is_created_and_becomes_the_active_one(client, make_person, login):
    headers = login(make_person("city"))
    body = {"name": "2027年控辍保学", "school_year": 2026, "cutoff": "08-31", "active": True,
            "publicity_start": "2027-04-20", "survey_start": "2027-05-21", "persuasion_start": "2027-06-10",
            "enforcement_start": "2027-07-01", "enforcement_end": "2027-07-10"}
    created = client.post("/api/v1/campaigns", json=body, headers=headers)
    assert created.status_code == 201, created.json
    body["name"], body["school_year"] = "2028年控辍保学", 2027
    client.post("/api/v1/campaigns", json=body, headers=headers)
    current = client.get("/api/v1/campaigns/current", headers=headers).json
    assert current["school_year"] == 2027
    assert current["school_age"] == {"born_from": "2012-09-01", "born_to": "2021-08-31"}
    assert current["cohorts"][0] == {"grade": 1, "born_from": "2020-09-01", "born_to": "2021-08-31"}


def test_campaign_refuses_phases_out_of_order_and_bad_cutoff(client, make_person, login):
    headers = login(make_person("city"))
    body = {"name": "x", "school_year": 2026, "publicity_start": "2027-06-20", "survey_start": "2027-05-21",
            "persuasion_start": "2027-06-10", "enforcement_start": "2027-07-01", "enforcement_end": "2027-07-10"}
    response = client.post("/api/v1/campaigns", json=body, headers=headers)
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "survey_start"
    body.update(publicity_start="2027-04-20", cutoff="02-30")
    response = client.post("/api/v1/campaigns", json=body, headers=headers)
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "cutoff"
