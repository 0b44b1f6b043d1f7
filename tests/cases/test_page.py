"""The cases page is served by the app itself and calls only the JSON endpoints it documents."""

import re


def test_the_cases_page_is_served_and_uses_known_endpoints(client, app):
    response = client.get("/cases/")
    assert response.status_code == 200 and "个案与三率" in response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    assert "http://" not in page and "https://" not in page  # no CDN: field offices may have none
    assert '<script src="/cases/cases.js">' in page and "<style" not in page  # nothing inline (CSP)
    script = client.get("/cases/cases.js").get_data(as_text=True)
    assert "http://" not in script and "https://" not in script
    paths = set(re.findall(r'api\("(/[a-z/-]+)', script))
    assert paths == {"/reports/rates", "/cases"}
    spec = client.get("/api/openapi.json").json
    assert {"/api/v1" + p for p in paths} <= set(spec["paths"])
